//! Invalid configuration is an error naming the bad value, never a panic:
//! a chunk size of 0, and a pool of 0 threads.

use filch::{BuildError, ChunkSizeError, Pool};

#[test]
fn chunk_size_zero_is_a_chunk_size_error_naming_it() {
    let pool = Pool::builder().threads(2).build().unwrap();
    let err = pool.with_chunk_size(0).unwrap_err();
    assert_eq!(err, ChunkSizeError);
    let message = err.to_string();
    assert!(
        message.contains("chunk size 0"),
        "message does not name the chunk size: {message:?}"
    );
    // An error type usable with `?` in functions returning `Box<dyn Error>`.
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(boxed.to_string(), message);
    // Every positive size is accepted.
    for n in [1, 2, 1000, usize::MAX] {
        assert_eq!(pool.with_chunk_size(n).unwrap().chunk_size(), n);
    }
}

#[test]
fn zero_threads_is_a_build_error_naming_it() {
    let err = Pool::builder().threads(0).build().unwrap_err();
    assert!(matches!(err, BuildError::ZeroThreads), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("0 threads"),
        "message does not name the thread count: {message:?}"
    );
    assert_eq!(Pool::builder().threads(1).build().unwrap().threads(), 1);
}
