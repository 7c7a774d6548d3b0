//! Temporary smoke test.
use filch_scheduler::*;
#[test]
fn smoke() {
    let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    fn fib(n: u64) -> u64 { if n < 2 { return n } let (a,b) = join(|| fib(n-1), || fib(n-2)); a+b }
    assert_eq!(pool.install(|| fib(25)), 75025);
    assert_eq!(fib(20), 6765);
    let mut v = vec![0; 100];
    pool.scope(|s| for (i, x) in v.iter_mut().enumerate() { s.spawn(move |_| *x = i) });
    assert_eq!(v, (0..100).collect::<Vec<_>>());
    println!("{}", pool.stats());
}
