//! The window layers of a model file (`conv2d`, `maxpool2d`, `conv1d`,
//! `depthwiseconv2d`, `maxpool1d`, `avgpool1d`, `avgpool2d`,
//! `globalavgpool`) and the layer specs they make.

use ember_runtime::Activation;
use ember_runtime::spec::{Dims, LayerSpec, Padding};

use super::layers::{LayerConfig, is_one};
use crate::error::{Result, TrainError, bad_config};

/// A convolution's activation: any but softmax.
fn conv_activation(name: &str, what: &str) -> Result<Activation> {
    Activation::from_name(name)
        .filter(|a| *a != Activation::Softmax)
        .ok_or_else(|| TrainError::config(format!("activation {name:?} is not allowed on a {what} layer")))
}

/// `spec` if its window fits, else the error `what` does not fit `dims`.
fn fits(spec: LayerSpec, what: String, dims: &[u32]) -> Result<LayerSpec> {
    if spec.validate().is_err() || spec.window().is_none() {
        bad_config!("{what} does not fit {dims:?}");
    }
    Ok(spec)
}

fn padding(s: &str) -> Result<Padding> {
    match s {
        "same" => Ok(Padding::Same),
        "valid" => Ok(Padding::Valid),
        _ => bad_config!("padding must be \"same\" or \"valid\", not {s:?}"),
    }
}

/// The spec of window layer `l` given the shape `dims` of its input (a
/// sequence `[steps, channels]` for the 1-D kinds, an image `[height, width,
/// channels]` for the 2-D ones, either for `globalavgpool`).
pub(super) fn window_spec(l: &LayerConfig, dims: &[u32]) -> Result<LayerSpec> {
    let sequence = |what: &str| match *dims {
        [t, f] => Ok((t, f)),
        _ => Err(TrainError::config(format!(
            "{what} needs a sequence [steps, channels] (declare input = [50, 3]), got {dims:?}"
        ))),
    };
    let image = |what: &str| match *dims {
        [h, w, c] => Ok((h, w, c)),
        _ => Err(TrainError::config(format!(
            "{what} needs an image [height, width, channels] (declare input = [28, 28, 1]), got {dims:?}"
        ))),
    };
    Ok(match l {
        LayerConfig::Conv2d { filters, kernel, stride, dilation, padding: pad, activation } => {
            let (height, width, channels) = image("a conv2d layer")?;
            let activation = conv_activation(activation, "conv2d")?;
            let (kernel_h, kernel_w) = kernel.rows_cols();
            if !is_one(stride) || !is_one(dilation) {
                let [stride, dilation] = [stride, dilation].map(|k| <[u32; 2]>::from(k.rows_cols()));
                let spec = LayerSpec::Conv2dStrided {
                    height,
                    width,
                    channels,
                    filters: *filters,
                    kernel: [kernel_h, kernel_w],
                    stride,
                    dilation,
                    padding: padding(pad)?,
                    activation,
                };
                let what = format!(
                    "a {kernel_h}x{kernel_w} {pad} convolution with {filters} filters, stride {stride:?} and dilation {dilation:?}"
                );
                return fits(spec, what, dims);
            }
            let spec = LayerSpec::Conv2d {
                height,
                width,
                channels,
                filters: *filters,
                kernel_h,
                kernel_w,
                padding: padding(pad)?,
                activation,
            };
            if *filters == 0 || kernel_h == 0 || kernel_w == 0 || spec.window().is_none() {
                bad_config!("a {kernel_h}x{kernel_w} {pad} convolution with {filters} filters does not fit {dims:?}");
            }
            spec
        }
        LayerConfig::Maxpool2d { pool, padding: pad } => {
            let (height, width, channels) = image("a maxpool2d layer")?;
            let spec = LayerSpec::MaxPool2d { height, width, channels, pool: *pool, padding: padding(pad)? };
            if spec.window().is_none() {
                bad_config!("a {pool}x{pool} {pad} pooling window does not fit {dims:?}");
            }
            spec
        }
        LayerConfig::Conv1d { filters, kernel, stride, dilation, padding: pad, activation } => {
            let (length, channels) = sequence("a conv1d layer")?;
            let spec = LayerSpec::Conv1d {
                length,
                channels,
                filters: *filters,
                kernel: *kernel,
                stride: *stride,
                dilation: *dilation,
                padding: padding(pad)?,
                activation: conv_activation(activation, "conv1d")?,
            };
            let what = format!(
                "a {kernel}-cell {pad} convolution with {filters} filters, stride {stride} and dilation {dilation}"
            );
            fits(spec, what, dims)?
        }
        LayerConfig::Depthwiseconv2d { kernel, stride, dilation, padding: pad, activation } => {
            let (height, width, channels) = image("a depthwiseconv2d layer")?;
            let [kernel, stride, dilation] = [kernel, stride, dilation].map(|k| <[u32; 2]>::from(k.rows_cols()));
            let spec = LayerSpec::DepthwiseConv2d {
                height,
                width,
                channels,
                kernel,
                stride,
                dilation,
                padding: padding(pad)?,
                activation: conv_activation(activation, "depthwiseconv2d")?,
            };
            let what =
                format!("a {kernel:?} {pad} depthwise convolution with stride {stride:?} and dilation {dilation:?}");
            fits(spec, what, dims)?
        }
        LayerConfig::Maxpool1d { pool, stride, padding: pad } => {
            let (length, channels) = sequence("a maxpool1d layer")?;
            let stride = stride.unwrap_or(*pool);
            let spec = LayerSpec::MaxPool1d { length, channels, pool: *pool, stride, padding: padding(pad)? };
            fits(spec, format!("a {pool}-cell {pad} pooling window with stride {stride}"), dims)?
        }
        LayerConfig::Avgpool1d { pool, stride, padding: pad } => {
            let (length, channels) = sequence("an avgpool1d layer")?;
            let stride = stride.unwrap_or(*pool);
            let spec = LayerSpec::AveragePool1d { length, channels, pool: *pool, stride, padding: padding(pad)? };
            fits(spec, format!("a {pool}-cell {pad} pooling window with stride {stride}"), dims)?
        }
        LayerConfig::Avgpool2d { pool, stride, padding: pad } => {
            let (height, width, channels) = image("an avgpool2d layer")?;
            let pool = <[u32; 2]>::from(pool.rows_cols());
            let stride = stride.map_or(pool, |s| <[u32; 2]>::from(s.rows_cols()));
            let spec = LayerSpec::AveragePool2d { height, width, channels, pool, stride, padding: padding(pad)? };
            fits(spec, format!("a {pool:?} {pad} pooling window with stride {stride:?}"), dims)?
        }
        LayerConfig::Globalavgpool => {
            if !matches!(dims.len(), 2 | 3) {
                bad_config!("a globalavgpool layer needs a sequence or an image, got {dims:?}");
            }
            let dims = Dims::new(dims).ok_or_else(|| TrainError::config(format!("cannot pool {dims:?}")))?;
            LayerSpec::GlobalAveragePool { dims }
        }
        _ => bad_config!("not a window layer: {l:?}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;

    fn specs(input: &str, layers: &str) -> Result<Vec<LayerSpec>> {
        let toml = format!("name = \"m\"\ntask = \"classify\"\ninput = {input}\n{layers}");
        ModelConfig::from_toml(&toml)?.layer_specs()
    }

    #[test]
    fn a_ds_cnn_block_and_a_conv1d_model_make_their_specs() {
        let layers = "[[layers]]\ntype = \"conv2d\"\nfilters = 4\nstride = 2\n\
                      [[layers]]\ntype = \"depthwiseconv2d\"\ndilation = [2, 1]\n\
                      [[layers]]\ntype = \"avgpool2d\"\npadding = \"same\"\n\
                      [[layers]]\ntype = \"globalavgpool\"";
        let s = specs("[9, 6, 1]", layers).unwrap();
        let same = Padding::Same;
        let linear = Activation::Linear;
        assert_eq!(
            s[0],
            LayerSpec::Conv2dStrided {
                height: 9,
                width: 6,
                channels: 1,
                filters: 4,
                kernel: [3, 3],
                stride: [2, 2],
                dilation: [1, 1],
                padding: same,
                activation: linear
            }
        );
        assert_eq!(
            s[1],
            LayerSpec::DepthwiseConv2d {
                height: 5,
                width: 3,
                channels: 4,
                kernel: [3, 3],
                stride: [1, 1],
                dilation: [2, 1],
                padding: same,
                activation: linear
            }
        );
        let pool =
            LayerSpec::AveragePool2d { height: 5, width: 3, channels: 4, pool: [2, 2], stride: [2, 2], padding: same };
        assert_eq!(s[2], pool);
        assert_eq!(s[3], LayerSpec::GlobalAveragePool { dims: Dims::new(&[3, 2, 4]).unwrap() });
        let layers = "[[layers]]\ntype = \"conv1d\"\nfilters = 2\nkernel = 5\nstride = 2\n\
                      [[layers]]\ntype = \"maxpool1d\"\npool = 3\nstride = 1\n\
                      [[layers]]\ntype = \"avgpool1d\"\n[[layers]]\ntype = \"globalavgpool\"";
        let s = specs("[20, 3]", layers).unwrap();
        let valid = Padding::Valid;
        let conv = LayerSpec::Conv1d {
            length: 20,
            channels: 3,
            filters: 2,
            kernel: 5,
            stride: 2,
            dilation: 1,
            padding: same,
            activation: linear,
        };
        assert_eq!(s[0], conv);
        assert_eq!(s[1], LayerSpec::MaxPool1d { length: 10, channels: 2, pool: 3, stride: 1, padding: valid });
        assert_eq!(s[2], LayerSpec::AveragePool1d { length: 8, channels: 2, pool: 2, stride: 2, padding: valid });
        assert_eq!(s[3], LayerSpec::GlobalAveragePool { dims: Dims::d2(4, 2) });
    }

    #[test]
    fn a_stride_one_conv2d_stays_the_stride_one_kind() {
        let s = specs("[5, 5, 1]", "[[layers]]\ntype = \"conv2d\"\nfilters = 2\nstride = 1").unwrap();
        assert!(matches!(s[0], LayerSpec::Conv2d { .. }), "{:?}", s[0]);
    }

    #[test]
    fn bad_window_layers_are_config_errors() {
        for (input, layer, says) in [
            ("[5, 5, 1]", "type = \"conv1d\"\nfilters = 2", "needs a sequence"),
            ("[20, 3]", "type = \"depthwiseconv2d\"", "needs an image"),
            (
                "[20, 3]",
                "type = \"conv1d\"\nfilters = 2\nkernel = 5\ndilation = 6\npadding = \"valid\"",
                "does not fit",
            ),
            ("[20, 3]", "type = \"conv1d\"\nfilters = 2\nstride = 0", "does not fit"),
            ("[20, 3]", "type = \"conv1d\"\nfilters = 2\nactivation = \"softmax\"", "not allowed"),
            ("[20]", "type = \"globalavgpool\"", "sequence or an image"),
            ("[4, 4, 1]", "type = \"avgpool2d\"\npool = 5\n", "does not fit"),
        ] {
            let err = specs(input, &format!("[[layers]]\n{layer}")).unwrap_err().to_string();
            assert!(err.contains(says), "{input} {layer}: {err}");
        }
    }
}
