//! `EntityDot<C, R, D>`: entity embeddings of `C` categorical columns in one
//! shared table of `R` rows of `D` values, normalised per column, combined
//! as the sum of every pairwise dot product plus one bias per category (see
//! [`LayerSpec::EntityDot`]). The table stays in place (flash).
//!
//! ```
//! use ember_runtime::{Chain, Dense, EntityDot, Error, Relu, TypedModel};
//! // 3 columns whose categories fill a 40-row table of 8-value vectors,
//! // then the Dense that scales (and clips) the prediction.
//! type Entity = Chain<EntityDot<3, 40, 8>, Dense<1, 1, Relu>>;
//! assert_eq!(Entity::load(&[]).err(), Some(Error::TooShort));
//! ```

use nalgebra::SVector;

use super::sized;
use crate::Error;
use crate::format::LayerCursor;
use crate::kernels::{self, EntityParams};
use crate::model::{Forward, Layer};
use crate::spec::LayerSpec;
use crate::text::TokenIds;

/// Entity embeddings of `C` columns (ids per sample) over a shared table of
/// `R` rows (the categories of every column, column by column) of `D` values:
/// `out = Σ_{j<k} n_j · n_k + Σ_k bias[id_k]` with `n_k` the batch-normalised
/// (column `k`'s moving statistics) row `id_k`.
///
/// The forward pass keeps the `C` normalised vectors (`C * D` floats) on
/// the stack; [`Layer::PEAK_ACTIVATION_FLOATS`] counts them.
#[derive(Clone, Copy, Debug, Default)]
pub struct EntityDot<const C: usize, const R: usize, const D: usize>;

/// An [`EntityDot`] bound to its parameters inside a blob.
#[derive(Clone, Copy, Debug)]
pub struct EntityDotView<'a, const C: usize, const R: usize, const D: usize> {
    params: EntityParams<'a>,
}

impl<'a, const C: usize, const R: usize, const D: usize> EntityDotView<'a, C, R, D> {
    /// Evaluated at compile time: stops compilation unless `C`, `R` and `D`
    /// are non-zero and `C <= R`, as a valid blob requires.
    pub const SIZES: () = {
        assert!(C > 0 && R > 0 && D > 0, "EntityDot<C, R, D> needs non-zero sizes");
        assert!(C <= R, "EntityDot<C, R, D> needs C <= R (every column has a category)");
    };

    /// Binds a layer to its table (`weight` `[R, D]`), category biases
    /// (`bias` `[R]`), per-column batch-norm parameters (`gamma`, `beta`,
    /// `mean`, `var`, each `[C, D]`) and `epsilon`.
    ///
    /// # Errors
    /// [`Error::TensorShape`] if a slice has the wrong length.
    pub fn new(
        weight: &'a [f32],
        bias: &'a [f32],
        [gamma, beta, mean, var]: [&'a [f32]; 4],
        epsilon: f32,
    ) -> Result<Self, Error> {
        const { Self::SIZES };
        let cd = C * D;
        Ok(EntityDotView {
            params: EntityParams {
                weight: sized(weight, R * D)?,
                bias: sized(bias, R)?,
                gamma: sized(gamma, cd)?,
                beta: sized(beta, cd)?,
                mean: sized(mean, cd)?,
                var: sized(var, cd)?,
                epsilon,
                dim: D,
            },
        })
    }

    /// The parameters as the kernel takes them.
    pub fn params(&self) -> &EntityParams<'a> {
        &self.params
    }

    /// The shared table, `[R, D]` row-major: the searchable embeddings.
    pub fn table(&self) -> &'a [f32] {
        self.params.weight
    }

    /// Row `id` of the table, `None` if `id >= R`.
    pub fn row(&self, id: u32) -> Option<&'a [f32]> {
        let i = id as usize;
        if i >= R {
            return None;
        }
        self.params.weight.get(i * D..(i + 1) * D)
    }

    /// The category biases, `[R]`.
    pub fn bias(&self) -> &'a [f32] {
        self.params.bias
    }
}

impl<const C: usize, const R: usize, const D: usize> Layer for EntityDot<C, R, D> {
    type Input = TokenIds<R, C>;
    type Output = SVector<f32, 1>;
    type Bound<'a> = EntityDotView<'a, C, R, D>;
    const LAYERS: usize = 1;
    /// The `C` ids, the `C * D` normalised vectors and the output.
    const PEAK_ACTIVATION_FLOATS: usize = C + C * D + 1;

    fn bind<'a>(cursor: &mut LayerCursor<'_, 'a>) -> Result<Self::Bound<'a>, Error> {
        let entry = cursor.next_layer()?;
        let LayerSpec::EntityDot { columns, rows, dim, epsilon_bits } = entry.spec else {
            return Err(Error::LayerKind);
        };
        if [columns, rows, dim].map(|v| v as usize) != [C, R, D] {
            return Err(Error::LayerShape);
        }
        let epsilon = f32::from_bits(epsilon_bits);
        let p = |i| entry.param_f32(i);
        EntityDotView::new(p(0)?, p(1)?, [p(2)?, p(3)?, p(4)?, p(5)?], epsilon)
    }
}

impl<const C: usize, const R: usize, const D: usize> Forward for EntityDotView<'_, C, R, D> {
    type Input = TokenIds<R, C>;
    type Output = SVector<f32, 1>;

    /// `n_k = (weight[id_k] − mean_k) · s_k + beta_k` with `s_k = gamma_k /
    /// sqrt(var_k + epsilon)`; `y = Σ_{j<k} n_j · n_k + Σ_k bias[id_k]`
    /// (see [`kernels::entity_dot`] for the fixed summation order).
    ///
    /// # Shapes
    /// `ids`: `[C]` global table rows (each `< R`, checked by [`TokenIds`]) → `[1]`.
    fn forward(&self, ids: &TokenIds<R, C>) -> SVector<f32, 1> {
        let mut normed = [[0.0f32; D]; C];
        // Cannot fail: `new` checked every length, `TokenIds` every id, and
        // `normed` holds exactly `C * D` values.
        let y = kernels::entity_dot(&self.params, ids.ids().iter().copied(), normed.as_flattened_mut());
        SVector::from([y.unwrap_or(f32::NAN)])
    }
}
