//! Calling functions of several arguments: tuple unpacking for `starmap`
//! (Python's `Pool.starmap`) and argument binding (`functools.partial`).
//!
//! In Rust a closure already is partial application (`|b| g(2, b)`);
//! [`partial`] and [`partial_last`] exist for code that reads like the
//! Python it replaces, and cost what that closure costs: each returns a
//! plain closure (no allocation, no indirect call per item). Stable Rust
//! cannot name a closure of a varying number of parameters, so a bound
//! function of three or more arguments takes the rest as one tuple, which
//! is what `map` passes for tuple items.

/// A tuple that can be spread into the arguments of `F`: `(a, b)` calls
/// `f(a, b)`. Implemented for tuples of 1 to 6 elements.
///
/// ```
/// let pool = filch::Pool::new();
/// let sums: Vec<i32> = pool.starmap(vec![(1, 2), (3, 4)], |a, b| a + b);
/// assert_eq!(sums, [3, 7]);
/// ```
pub trait Unpack<F> {
    /// What `F` returns.
    type Output;

    /// Calls `f` with this tuple's elements as its arguments.
    ///
    /// ```
    /// use filch::Unpack;
    /// assert_eq!((2, 3).call(&|a: i32, b: i32| a * b), 6);
    /// ```
    fn call(self, f: &F) -> Self::Output;
}

macro_rules! unpack_impl {
    ($($t:ident $v:ident),+) => {
        impl<F, R, $($t),+> Unpack<F> for ($($t,)+)
        where
            F: Fn($($t),+) -> R,
        {
            type Output = R;

            #[inline]
            fn call(self, f: &F) -> R {
                let ($($v,)+) = self;
                f($($v),+)
            }
        }
    };
}

unpack_impl!(A a);
unpack_impl!(A a, B b);
unpack_impl!(A a, B b, C c);
unpack_impl!(A a, B b, C c, D d);
unpack_impl!(A a, B b, C c, D d, E e);
unpack_impl!(A a, B b, C c, D d, E e, G g);

/// A function that can be called with one argument bound first and the
/// rest as one value: what [`partial`] needs. `Rest` is the second argument
/// of a 2-argument function, or the tuple of the remaining arguments of a 3-
/// to 6-argument one; `Args` (the full argument tuple) tells the arities
/// apart.
pub trait BindFirst<X, Rest, Args> {
    /// What the function returns.
    type Output;

    /// Calls the function with `x` first, then the rest.
    ///
    /// ```
    /// use filch::BindFirst;
    /// let f3 = |a: i32, b: i32, c: i32| a * 100 + b * 10 + c;
    /// assert_eq!(BindFirst::<_, _, (i32, i32, i32)>::call_bound(&f3, 9, (1, 2)), 912);
    /// ```
    fn call_bound(&self, x: X, rest: Rest) -> Self::Output;
}

/// A function that can be called with the rest of its arguments as one
/// value and one argument bound last: what [`partial_last`] needs; as
/// [`BindFirst`] otherwise.
pub trait BindLast<X, Rest, Args> {
    /// What the function returns.
    type Output;

    /// Calls the function with the rest, then `x`.
    ///
    /// ```
    /// use filch::BindLast;
    /// let sub = |a: i32, b: i32| a - b;
    /// assert_eq!(BindLast::<_, _, (i32, i32)>::call_bound(&sub, 3, 5), 2);
    /// ```
    fn call_bound(&self, x: X, rest: Rest) -> Self::Output;
}

impl<F, X, B, R> BindFirst<X, B, (X, B)> for F
where
    F: Fn(X, B) -> R,
{
    type Output = R;

    #[inline]
    fn call_bound(&self, x: X, b: B) -> R {
        self(x, b)
    }
}

impl<F, X, A, R> BindLast<X, A, (A, X)> for F
where
    F: Fn(A, X) -> R,
{
    type Output = R;

    #[inline]
    fn call_bound(&self, x: X, a: A) -> R {
        self(a, x)
    }
}

macro_rules! bind_impl {
    ($($t:ident $v:ident),+) => {
        impl<F, X, R, $($t),+> BindFirst<X, ($($t,)+), (X, $($t),+)> for F
        where
            F: Fn(X, $($t),+) -> R,
        {
            type Output = R;

            #[inline]
            fn call_bound(&self, x: X, ($($v,)+): ($($t,)+)) -> R {
                self(x, $($v),+)
            }
        }

        impl<F, X, R, $($t),+> BindLast<X, ($($t,)+), ($($t,)+ X)> for F
        where
            F: Fn($($t,)+ X) -> R,
        {
            type Output = R;

            #[inline]
            fn call_bound(&self, x: X, ($($v,)+): ($($t,)+)) -> R {
                self($($v,)+ x)
            }
        }
    };
}

bind_impl!(B b, C c);
bind_impl!(B b, C c, D d);
bind_impl!(B b, C c, D d, E e);
bind_impl!(B b, C c, D d, E e, G g);

/// Binds the first argument of `f`, like Python's `functools.partial(f, x)`,
/// and returns a plain closure. For a 2-argument `f` the closure takes the
/// second argument; for 3 to 6 arguments it takes the rest as one tuple, so
/// `pool.map` over tuples calls it (Python's `pool.starmap(partial(f, x),
/// pairs)`). The bound value is cloned for every call.
///
/// ```
/// use filch::{partial, Pool};
///
/// fn g(a: i32, b: i32) -> i32 { a + b }
/// fn f3(a: i32, b: i32, c: i32) -> i32 { a * 100 + b * 10 + c }
///
/// let pool = Pool::new();
/// let r: Vec<i32> = pool.map(0..3, partial(g, 2));
/// assert_eq!(r, [2, 3, 4]);
/// let r: Vec<i32> = pool.map(vec![(1, 2), (3, 4)], partial(f3, 9));
/// assert_eq!(r, [912, 934]);
/// // The closure a Rust user would write instead, at the same cost:
/// let r: Vec<i32> = pool.map(0..3, |b| g(2, b));
/// assert_eq!(r, [2, 3, 4]);
/// ```
#[inline]
pub fn partial<F, X, Rest, Args>(
    f: F,
    x: X,
) -> impl Fn(Rest) -> <F as BindFirst<X, Rest, Args>>::Output + Clone + Send + Sync
where
    F: BindFirst<X, Rest, Args> + Clone + Send + Sync,
    X: Clone + Send + Sync,
{
    move |rest| f.call_bound(x.clone(), rest)
}

/// Binds the last argument of `f`, like `functools.partial(f, b=x)` for
/// its last parameter; the rest as for [`partial`].
///
/// ```
/// use filch::{partial_last, Pool};
///
/// fn sub(a: i32, b: i32) -> i32 { a - b }
/// fn f3(a: i32, b: i32, c: i32) -> i32 { a * 100 + b * 10 + c }
///
/// let pool = Pool::new();
/// let r: Vec<i32> = pool.map(0..3, partial_last(sub, 3));
/// assert_eq!(r, [-3, -2, -1]);
/// let r: Vec<i32> = pool.map(vec![(1, 2)], partial_last(f3, 9));
/// assert_eq!(r, [129]);
/// ```
#[inline]
pub fn partial_last<F, X, Rest, Args>(
    f: F,
    x: X,
) -> impl Fn(Rest) -> <F as BindLast<X, Rest, Args>>::Output + Clone + Send + Sync
where
    F: BindLast<X, Rest, Args> + Clone + Send + Sync,
    X: Clone + Send + Sync,
{
    move |rest| f.call_bound(x.clone(), rest)
}
