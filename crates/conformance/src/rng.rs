//! The one deterministic PRNG of the workspace (xorshift64*): the runner draws `chunks SEED`
//! write sizes from it and the network fuzzer its traffic, so a seed written in a scenario or
//! given as `--rng-seed` replays the same bytes in the same pieces. No dependency and no
//! platform differences, which a reproducible finding needs more than statistical quality.

/// A xorshift64* generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// Largest write a `chunks` delivery draws ([`Rng::chunk_len`] is 1 to this).
pub const MAX_CHUNK_LEN: usize = 64;

impl Rng {
    /// A generator; seed 0 is mapped to 1 (xorshift's fixed point).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Up to `max` random bytes (the length drawn first).
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// The size of the next write of a `chunks` delivery: 1 to [`MAX_CHUNK_LEN`], from the top
    /// six bits (the sizes every recorded `chunks SEED` scenario was written against).
    pub fn chunk_len(&mut self) -> usize {
        (self.next_u64() >> 58) as usize + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_the_same_numbers() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_eq!(Rng::new(0).next_u64(), Rng::new(1).next_u64());
    }

    #[test]
    fn chunk_lengths_stay_in_range_and_reach_both_ends() {
        let mut rng = Rng::new(42);
        let lens: Vec<usize> = (0..10_000).map(|_| rng.chunk_len()).collect();
        assert!(lens.iter().all(|&n| (1..=MAX_CHUNK_LEN).contains(&n)));
        assert!(lens.contains(&1) && lens.contains(&MAX_CHUNK_LEN));
    }
}
