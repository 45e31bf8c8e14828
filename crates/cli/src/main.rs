//! `ember`: train, export, verify, run and inspect tiny neural networks.

mod cli;

/// Exit status of a Unix tool killed by SIGPIPE (128 + 13).
const BROKEN_PIPE_STATUS: i32 = 141;

fn main() -> std::process::ExitCode {
    // Rust ignores SIGPIPE, so `println!` into a closed pipe (`ember ... |
    // head`) panics; stop quietly instead, as a tool killed by SIGPIPE does.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload().downcast_ref::<String>().map_or("", String::as_str);
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(BROKEN_PIPE_STATUS);
        }
        default_hook(info)
    }));
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
