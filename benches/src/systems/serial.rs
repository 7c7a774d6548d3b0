//! The serial baseline: what the Python seeds call "normal" — a plain loop on the calling
//! thread. Every speed-up in the report is this system's time divided by another's.

/// `items.iter().map(f).collect()`.
#[inline]
pub fn map_slice<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    F: Fn(&T) -> R,
{
    items.iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_input_order() {
        assert_eq!(map_slice(&[1, 2, 3], |x| x * 10), vec![10, 20, 30]);
    }
}
