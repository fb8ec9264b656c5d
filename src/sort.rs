//! One small stable sort over index lists, shared by every caller: the
//! standard library's sorts are instantiated once per element and comparator
//! type, and each instance is several kilobytes of WebAssembly.

/// Sorts `v` stably: `less(a, b)` says whether `a` must come before `b`.
/// Insertion-sorted runs of 16, then bottom-up merging; O(n log n).
#[inline(never)]
pub(crate) fn stable_sort(v: &mut [usize], less: &dyn Fn(usize, usize) -> bool) {
    const RUN: usize = 16;
    let n = v.len();
    if n < 2 {
        return;
    }
    for start in (0..n).step_by(RUN) {
        let run = &mut v[start..(start + RUN).min(n)];
        for i in 1..run.len() {
            let x = run[i];
            let mut j = i;
            while j > 0 && less(x, run[j - 1]) {
                run[j] = run[j - 1];
                j -= 1;
            }
            run[j] = x;
        }
    }
    if n <= RUN {
        return;
    }
    let mut buf = vec![0usize; n];
    let mut width = RUN;
    while width < n {
        let mut lo = 0;
        while lo < n {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (mut i, mut j) = (lo, mid);
            for slot in &mut buf[lo..hi] {
                // Ties take the left run: the sort is stable.
                if j < hi && (i >= mid || less(v[j], v[i])) {
                    *slot = v[j];
                    j += 1;
                } else {
                    *slot = v[i];
                    i += 1;
                }
            }
            lo = hi;
        }
        v.copy_from_slice(&buf);
        width *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_stable_sort() {
        let mut seed = 12345u64;
        for n in [0usize, 1, 2, 15, 16, 17, 31, 33, 100, 257, 1000] {
            let keys: Vec<u64> = (0..n)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (seed >> 33) % 7
                })
                .collect();
            let mut ours: Vec<usize> = (0..n).collect();
            stable_sort(&mut ours, &|a, b| keys[a] < keys[b]);
            let mut std: Vec<usize> = (0..n).collect();
            std.sort_by_key(|&i| keys[i]);
            assert_eq!(ours, std, "n = {n}");
        }
    }
}
