//! Data-parallel training: every process (rank) trains on its shard of each global batch, the
//! gradients are summed across ranks before the update, and Adam then runs identically on every
//! rank, so all ranks hold the same weights without ever sending them.
//!
//! The trainer only sees the [`Collective`] trait: [`Single`] for one process (no MPI, nothing
//! to link), and, with the `distributed` feature, [`Mpi`] over an MPI implementation (Open MPI,
//! MPICH) when the process was started by `mpirun` or Slurm's `srun`.

/// The collective operations data-parallel training needs. Every rank calls them in the same
/// order with buffers of the same length.
pub trait Collective {
    /// This process's rank, `0..size()`. Rank 0 writes checkpoints, logs and exports.
    fn rank(&self) -> usize;
    /// Number of processes training together.
    fn size(&self) -> usize;
    /// Replaces `values` with their element-wise sum over all ranks.
    fn sum_f32(&self, values: &mut [f32]);
    /// Replaces `values` with their element-wise sum over all ranks.
    fn sum_f64(&self, values: &mut [f64]);
    /// Replaces `values` with rank 0's `values` on every rank.
    fn broadcast_f64(&self, values: &mut [f64]);
}

/// One process training alone: every operation is the identity.
#[derive(Debug, Clone, Copy, Default)]
pub struct Single;

impl Collective for Single {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn sum_f32(&self, _values: &mut [f32]) {}

    fn sum_f64(&self, _values: &mut [f64]) {}

    fn broadcast_f64(&self, _values: &mut [f64]) {}
}

/// Environment variables set by the launchers that start ranks: Open MPI's `mpirun`, PMIx
/// (Slurm's `srun --mpi=pmix`, Open MPI 5) and PMI (MPICH's Hydra, `srun --mpi=pmi2`).
const LAUNCHER_VARIABLES: [&str; 4] = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"];

/// Whether an MPI launcher (`mpirun`, `srun`) started this process.
pub fn launched_by_mpi() -> bool {
    LAUNCHER_VARIABLES
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// The part of a global batch that `rank` of `size` trains on: contiguous and balanced (sizes
/// differ by at most one; with fewer samples than ranks, some ranks get none).
pub fn shard(indices: &[usize], rank: usize, size: usize) -> &[usize] {
    let size = size.max(1);
    let n = indices.len();
    &indices[n * rank / size..n * (rank + 1) / size]
}

#[cfg(feature = "distributed")]
pub use self::mpi_impl::Mpi;

#[cfg(feature = "distributed")]
mod mpi_impl {
    use mpi::collective::SystemOperation;
    use mpi::environment::Universe;
    use mpi::topology::SimpleCommunicator;
    use mpi::traits::{Communicator, CommunicatorCollectives, Root};

    use super::{Collective, launched_by_mpi};

    /// The MPI world, finalised when dropped.
    pub struct Mpi {
        world: SimpleCommunicator,
        // Dropped last: finalises MPI.
        _universe: Universe,
    }

    impl std::fmt::Debug for Mpi {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Mpi")
                .field("rank", &self.rank())
                .field("size", &self.size())
                .finish()
        }
    }

    impl Mpi {
        /// Initialises MPI when a launcher (`mpirun`, `srun`) started this process; `None` when
        /// it was started directly, so that a plain `ds-train` run never touches MPI.
        pub fn init_if_launched() -> Option<Self> {
            if !launched_by_mpi() {
                return None;
            }
            let universe = mpi::initialize()?;
            Some(Self {
                world: universe.world(),
                _universe: universe,
            })
        }

        /// Ends every rank of the job with `code` (after an error on one rank, the others would
        /// otherwise wait for it forever in the next collective operation).
        pub fn abort(&self, code: i32) -> ! {
            self.world.abort(code)
        }
    }

    impl Collective for Mpi {
        fn rank(&self) -> usize {
            self.world.rank() as usize
        }

        fn size(&self) -> usize {
            self.world.size() as usize
        }

        fn sum_f32(&self, values: &mut [f32]) {
            let send = values.to_vec();
            self.world
                .all_reduce_into(&send[..], values, SystemOperation::sum());
        }

        fn sum_f64(&self, values: &mut [f64]) {
            let send = values.to_vec();
            self.world
                .all_reduce_into(&send[..], values, SystemOperation::sum());
        }

        fn broadcast_f64(&self, values: &mut [f64]) {
            self.world.process_at_rank(0).broadcast_into(values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_batch_in_order() {
        let batch: Vec<usize> = (10..17).collect();
        for size in 1..=9 {
            let joined: Vec<usize> = (0..size)
                .flat_map(|r| shard(&batch, r, size).to_vec())
                .collect();
            assert_eq!(joined, batch, "{size} ranks");
            let lens: Vec<usize> = (0..size).map(|r| shard(&batch, r, size).len()).collect();
            let (lo, hi) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
            assert!(hi - lo <= 1, "{lens:?}");
        }
        assert_eq!(shard(&[1, 2, 3, 4], 1, 2), &[3, 4]);
    }
}
