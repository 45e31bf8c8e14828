//! Reading what the firmware prints (the line protocol of
//! `ember_board_common::protocol`) and checking its query answers against
//! the host's.

use ember_board_common::StackUse;
use ember_board_common::protocol::{
    TAG_DONE, TAG_INSTRET, TAG_OUT, TAG_RAM, TAG_SIMILAR, TAG_SIMILAR_INSTRET, TAG_STACK, TAG_TEXT_IDS,
    TAG_TEXT_INSTRET, TAG_TEXT_OUT,
};

use crate::error::{BoardError, Protocol, Result};
use crate::{BoardRun, QUERY_NEIGHBOURS};

/// The prefix of the line a firmware prints when it fails.
const ERROR_PREFIX: &str = "error:";

/// One raw text tokenized and run on the board.
#[derive(Clone, Debug, PartialEq)]
pub struct TextRun {
    /// The ids the board's tokenizer produced.
    pub ids: Vec<u32>,
    /// The model output, exactly as the board computed it.
    pub output: Vec<f32>,
    /// Instructions to tokenize the text.
    pub tokenize_instructions: u64,
    /// Instructions for the inference.
    pub instructions: u64,
}

/// One similarity query answered on the board.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryRun {
    /// The nearest rows, best first: global table row and exact cosine score
    /// (at most [`QUERY_NEIGHBOURS`]).
    pub neighbours: Vec<(u32, f32)>,
    /// Instructions for the whole query: name lookups, the sum and the search.
    pub instructions: u64,
}

/// What the firmware printed, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedOutput {
    /// One output vector per sample.
    pub outputs: Vec<Vec<f32>>,
    /// Instructions per inference, one per sample.
    pub instructions: Vec<u64>,
    /// `ram_activation_bytes`.
    pub activation_bytes: usize,
    /// `stack_peak_bytes`: the peak stack and the stack region's size.
    pub stack: StackUse,
    /// One result per text line.
    pub texts: Vec<TextRun>,
    /// One answer per similarity query.
    pub queries: Vec<QueryRun>,
}

/// Parses the firmware's output strictly: samples in order `0..samples`,
/// each an `out` line then an `instret` line, outputs of one length, then
/// per text `text_ids`, `text_out` and `text_instret` lines, then per query
/// a `similar` line (row and score pairs, at most [`QUERY_NEIGHBOURS`]) and
/// a `similar_instret` line, then `ram_activation_bytes`,
/// `stack_peak_bytes` (a peak below the region's size: a stack that reached
/// the bottom of its region may have overflowed) and `done` as the last
/// line. Anything else, including any `error:` line, is an error.
///
/// # Errors
/// A [`Protocol`] error naming the first line that breaks the protocol, or
/// what is missing at the end.
pub fn parse_output(text: &str, samples: usize, n_texts: usize, n_queries: usize) -> Result<ParsedOutput, Protocol> {
    if let Some(line) = text.lines().find(|l| l.trim_start().starts_with(ERROR_PREFIX)) {
        return Err(Protocol::Firmware(line.trim().to_string()));
    }
    let mut outputs: Vec<Vec<f32>> = Vec::new();
    let mut instructions = Vec::new();
    let mut activation_bytes = None;
    let mut stack = None;
    let mut texts: Vec<TextRun> = Vec::new();
    let mut queries: Vec<QueryRun> = Vec::new();
    // Whether the last query still waits for its `similar_instret` line.
    let mut open_query = false;
    let mut done = false;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |why: &str| Protocol::Line { line: n + 1, why: why.to_string(), text: line.to_string() };
        if done {
            return Err(bad("output after `done`"));
        }
        let mut words = line.split_whitespace();
        let key = words.next().unwrap_or_default();
        let mut number = |what: &str| -> Result<u64, Protocol> {
            words.next().and_then(|w| w.parse().ok()).ok_or_else(|| bad(&format!("expected {what}")))
        };
        match key {
            TAG_OUT => {
                if number("a sample index")? != outputs.len() as u64 || instructions.len() != outputs.len() {
                    return Err(bad("sample out of order"));
                }
                let values = words
                    .by_ref()
                    .map(|w| u32::from_str_radix(w, 16).map(f32::from_bits).map_err(|_| bad("bad hex value")))
                    .collect::<Result<Vec<f32>, Protocol>>()?;
                if values.is_empty() || outputs.first().is_some_and(|o| o.len() != values.len()) {
                    return Err(bad("wrong number of output values"));
                }
                outputs.push(values);
            }
            TAG_INSTRET => {
                if number("a sample index")? != instructions.len() as u64 || instructions.len() + 1 != outputs.len() {
                    return Err(bad("instret out of order"));
                }
                instructions.push(number("an instruction count")?);
            }
            TAG_TEXT_IDS => {
                if number("a text index")? != texts.len() as u64 {
                    return Err(bad("text out of order"));
                }
                let ids = words
                    .by_ref()
                    .map(|w| w.parse().map_err(|_| bad("bad id")))
                    .collect::<Result<Vec<u32>, Protocol>>()?;
                texts.push(TextRun { ids, output: Vec::new(), tokenize_instructions: 0, instructions: 0 });
            }
            TAG_TEXT_OUT => {
                let k = number("a text index")?;
                let n = texts.len() as u64;
                let last = texts.last_mut().filter(|t| k + 1 == n && t.output.is_empty());
                let values = words
                    .by_ref()
                    .map(|w| u32::from_str_radix(w, 16).map(f32::from_bits).map_err(|_| bad("bad hex value")))
                    .collect::<Result<Vec<f32>, Protocol>>()?;
                match last {
                    Some(t) if !values.is_empty() => t.output = values,
                    _ => return Err(bad("text output out of order")),
                }
            }
            TAG_TEXT_INSTRET => {
                let k = number("a text index")?;
                let (tok, inf) = (number("an instruction count")?, number("an instruction count")?);
                let n = texts.len() as u64;
                match texts.last_mut() {
                    Some(t) if k + 1 == n && !t.output.is_empty() => {
                        t.tokenize_instructions = tok;
                        t.instructions = inf;
                    }
                    _ => return Err(bad("text_instret out of order")),
                }
            }
            TAG_SIMILAR => {
                if number("a query index")? != queries.len() as u64 || open_query {
                    return Err(bad("query out of order"));
                }
                let rest: Vec<&str> = words.by_ref().collect();
                if !rest.len().is_multiple_of(2) || rest.len() / 2 > QUERY_NEIGHBOURS {
                    return Err(bad(&format!("expected up to {QUERY_NEIGHBOURS} row and score pairs")));
                }
                let neighbours = rest
                    .chunks_exact(2)
                    .map(|p| match (p[0].parse::<u32>(), u32::from_str_radix(p[1], 16)) {
                        (Ok(row), Ok(bits)) if p[1].len() == 8 => Ok((row, f32::from_bits(bits))),
                        _ => Err(bad("bad row or score")),
                    })
                    .collect::<Result<Vec<_>, Protocol>>()?;
                queries.push(QueryRun { neighbours, instructions: 0 });
                open_query = true;
            }
            TAG_SIMILAR_INSTRET => {
                if number("a query index")? + 1 != queries.len() as u64 || !open_query {
                    return Err(bad("similar_instret out of order"));
                }
                let count = number("an instruction count")?;
                if let Some(q) = queries.last_mut() {
                    q.instructions = count;
                }
                open_query = false;
            }
            TAG_RAM => activation_bytes = Some(number("a byte count")? as usize),
            TAG_STACK => {
                let (peak, size) = (number("a byte count")? as usize, number("a byte count")? as usize);
                if peak >= size {
                    return Err(bad("the stack reached the bottom of its region (it may have overflowed)"));
                }
                stack = Some(StackUse { peak, size });
            }
            TAG_DONE => done = true,
            _ => return Err(bad("unexpected line")),
        }
        if words.next().is_some() && !matches!(key, TAG_OUT | TAG_TEXT_IDS | TAG_TEXT_OUT) {
            return Err(bad("trailing words"));
        }
    }
    let incomplete = |why: String| Err(Protocol::Incomplete(why));
    if !done {
        return incomplete(format!("the firmware did not print `{TAG_DONE}`"));
    }
    if outputs.len() != samples || instructions.len() != samples {
        return incomplete(format!(
            "{} outputs and {} counts for {samples} samples",
            outputs.len(),
            instructions.len()
        ));
    }
    if texts.len() != n_texts || texts.iter().any(|t| t.output.is_empty()) {
        let complete = texts.iter().filter(|t| !t.output.is_empty()).count();
        return incomplete(format!("{complete} complete text results for {n_texts} texts"));
    }
    if queries.len() != n_queries || open_query {
        let complete = queries.len() - usize::from(open_query);
        return incomplete(format!("{complete} complete query answers for {n_queries} queries"));
    }
    let Some(activation_bytes) = activation_bytes else {
        return incomplete(format!("no `{TAG_RAM}` line"));
    };
    let Some(stack) = stack else {
        return incomplete(format!("no `{TAG_STACK}` line"));
    };
    Ok(ParsedOutput { outputs, instructions, activation_bytes, stack, texts, queries })
}

/// Checks every query answer of `run` against `host`'s answer to the same
/// query text (its `(row, score)` list, best first, as
/// `ember_runtime::search::nearest::<`[`QUERY_NEIGHBOURS`]`>` gives it):
/// the same rows in the same order with bit-identical scores.
///
/// # Errors
/// [`BoardError::Queries`] when the counts differ, the host cannot answer a
/// query (its error, printed with `{:#}`, is part of the message) or an
/// answer differs.
pub fn check_queries<E: std::fmt::Display>(
    run: &BoardRun,
    queries: &[String],
    mut host: impl FnMut(&str) -> Result<Vec<(u32, f32)>, E>,
) -> Result<()> {
    if run.queries.len() != queries.len() {
        return Err(BoardError::Queries(format!("{} query answers for {} queries", run.queries.len(), queries.len())));
    }
    for (k, (got, query)) in run.queries.iter().zip(queries).enumerate() {
        let want = host(query)
            .map_err(|e| BoardError::Queries(format!("the host cannot answer query {k} `{query}`: {e:#}")))?;
        let bits = |v: &[(u32, f32)]| v.iter().map(|&(r, s)| (r, s.to_bits())).collect::<Vec<_>>();
        if bits(&got.neighbours) != bits(&want) {
            let why = format!("query {k} `{query}`: the board answers {:?}, the host {:?}", got.neighbours, want);
            return Err(BoardError::Queries(why));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query_terms;

    const GOOD: &str = "out 0 3f800000 00000000\ninstret 0 1234\nout 1 bf800000 7f800000\ninstret 1 1230\n\
                        ram_activation_bytes 3648\nstack_peak_bytes 5000 16384\ndone\n";

    #[test]
    fn parses_what_the_firmware_prints() {
        let p = parse_output(GOOD, 2, 0, 0).unwrap();
        assert_eq!(p.outputs, vec![vec![1.0, 0.0], vec![-1.0, f32::INFINITY]]);
        assert_eq!(p.instructions, vec![1234, 1230]);
        assert_eq!(p.activation_bytes, 3648);
        assert_eq!(p.stack, StackUse { peak: 5000, size: 16384 });
    }

    #[test]
    fn rejects_errors_missing_done_and_wrong_counts() {
        assert!(parse_output("error: CRC-32 mismatch (corrupt blob)\n", 0, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("done\n", ""), 2, 0, 0).is_err());
        assert!(parse_output(GOOD, 3, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("out 1", "out 2"), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("bf800000 7f800000", "bf800000"), 2, 0, 0).is_err());
        assert!(parse_output(&format!("{GOOD}out 2 0\n"), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("instret 0 1234\n", ""), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("1234", "x"), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("stack_peak_bytes 5000 16384\n", ""), 2, 0, 0).is_err());
        assert!(parse_output(&GOOD.replace("5000 16384", "5000"), 2, 0, 0).is_err());
        let full = parse_output(&GOOD.replace("5000 16384", "16384 16384"), 2, 0, 0).unwrap_err();
        assert!(format!("{full:#}").contains("overflowed"), "{full:#}");
        let texts = GOOD
            .replace("ram_activation", "text_ids 0 0 1 7\ntext_out 0 3f800000\ntext_instret 0 90 1234\nram_activation");
        let p = parse_output(&texts, 2, 1, 0).unwrap();
        assert_eq!(
            p.texts,
            vec![TextRun { ids: vec![0, 1, 7], output: vec![1.0], tokenize_instructions: 90, instructions: 1234 }]
        );
        assert!(parse_output(&texts, 2, 0, 0).is_err());
        assert!(parse_output(&texts.replace("text_out 0 3f800000\n", ""), 2, 1, 0).is_err());
        assert!(parse_output(&texts.replace("text_instret 0", "text_instret 1"), 2, 1, 0).is_err());
    }

    #[test]
    fn parses_query_answers() {
        let queries = GOOD.replace(
            "ram_activation",
            "similar 0 7 3f800000 2 3f000000\nsimilar_instret 0 5000\nsimilar 1\nsimilar_instret 1 40\nram_activation",
        );
        let p = parse_output(&queries, 2, 0, 2).unwrap();
        assert_eq!(
            p.queries,
            vec![
                QueryRun { neighbours: vec![(7, 1.0), (2, 0.5)], instructions: 5000 },
                QueryRun { neighbours: vec![], instructions: 40 },
            ]
        );
        assert!(parse_output(&queries, 2, 0, 1).is_err());
        assert!(parse_output(&queries, 2, 0, 3).is_err());
        assert!(parse_output(&queries.replace(" 2 3f000000", " 2"), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("3f000000", "3f00"), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar 1", "similar 2"), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar_instret 0 5000\n", ""), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar_instret 1 40\n", ""), 2, 0, 2).is_err());
        assert!(parse_output(&queries.replace("similar_instret 1 40", "similar_instret 1 40 2"), 2, 0, 2).is_err());
        let eleven: String = (0..11).map(|r| format!(" {r} 3f800000")).collect();
        assert!(parse_output(&queries.replace("similar 1", &format!("similar 1{eleven}")), 2, 0, 2).is_err());
        let error = "similar 0 7 3f800000\nerror: query 1: unknown name `xyz`\n";
        let e = parse_output(error, 0, 0, 2).unwrap_err();
        assert!(format!("{e:#}").contains("unknown name `xyz`"), "{e:#}");
    }

    #[test]
    fn query_terms_follow_the_firmware() {
        let terms = |line| query_terms(line).collect::<Vec<_>>();
        assert_eq!(terms("king -man  woman"), vec![("king", 1.0), ("man", -1.0), ("woman", 1.0)]);
        assert_eq!(terms("- species=Adelie"), vec![("-", 1.0), ("species=Adelie", 1.0)]);
        assert!(terms("  ").is_empty());
    }
}
