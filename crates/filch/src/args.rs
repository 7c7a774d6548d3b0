//! Calling functions of several arguments: tuple unpacking for `starmap`
//! (Python's `Pool.starmap`) and argument binding (`functools.partial`).
//!
//! In Rust a closure already is partial application (`|b| g(2, b)`), and it
//! inlines better; [`partial`] and [`partial_last`] exist for code that reads
//! like the Python it replaces. They box the bound function (one allocation
//! per `partial` call, one indirect call per item).

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

/// A function whose first argument can be bound, leaving a function of the
/// rest: what [`partial`] needs. `Args` is the full argument tuple; it only
/// tells the arities apart. Implemented for functions of 2 to 6 arguments.
pub trait BindFirst<'a, X, Args> {
    /// The function of the remaining arguments.
    type Bound;

    /// Binds the first argument to `x`.
    ///
    /// ```
    /// use filch::BindFirst;
    /// let add = |a: i32, b: i32| a + b;
    /// let add2 = BindFirst::<'_, i32, (i32, i32)>::bind_first(add, 2);
    /// assert_eq!(add2(5), 7);
    /// ```
    fn bind_first(self, x: X) -> Self::Bound;
}

/// A function whose last argument can be bound, leaving a function of the
/// rest: what [`partial_last`] needs. Implemented for 2 to 6 arguments.
pub trait BindLast<'a, X, Args> {
    /// The function of the remaining arguments.
    type Bound;

    /// Binds the last argument to `x`.
    ///
    /// ```
    /// use filch::BindLast;
    /// let sub = |a: i32, b: i32| a - b;
    /// let minus3 = BindLast::<'_, i32, (i32, i32)>::bind_last(sub, 3);
    /// assert_eq!(minus3(5), 2);
    /// ```
    fn bind_last(self, x: X) -> Self::Bound;
}

macro_rules! bind_impl {
    ($($t:ident $v:ident),+) => {
        impl<'a, F, X, R, $($t),+> BindFirst<'a, X, (X, $($t),+)> for F
        where
            F: Fn(X, $($t),+) -> R + Send + Sync + 'a,
            X: Clone + Send + Sync + 'a,
        {
            type Bound = Box<dyn Fn($($t),+) -> R + Send + Sync + 'a>;

            fn bind_first(self, x: X) -> Self::Bound {
                Box::new(move |$($v),+| self(x.clone(), $($v),+))
            }
        }

        impl<'a, F, X, R, $($t),+> BindLast<'a, X, ($($t,)+ X)> for F
        where
            F: Fn($($t,)+ X) -> R + Send + Sync + 'a,
            X: Clone + Send + Sync + 'a,
        {
            type Bound = Box<dyn Fn($($t),+) -> R + Send + Sync + 'a>;

            fn bind_last(self, x: X) -> Self::Bound {
                Box::new(move |$($v),+| self($($v,)+ x.clone()))
            }
        }
    };
}

bind_impl!(B b);
bind_impl!(B b, C c);
bind_impl!(B b, C c, D d);
bind_impl!(B b, C c, D d, E e);
bind_impl!(B b, C c, D d, E e, G g);

/// Binds the first argument of `f`, like Python's `functools.partial(f, x)`.
/// For a 2-argument `f` the result maps single items; for 3 to 6 arguments
/// it takes the rest, which `starmap` spreads from tuples. The bound value is
/// cloned for every call.
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
/// let r: Vec<i32> = pool.starmap(vec![(1, 2), (3, 4)], partial(f3, 9));
/// assert_eq!(r, [912, 934]);
/// // The closure a Rust user would write instead:
/// let r: Vec<i32> = pool.map(0..3, |b| g(2, b));
/// assert_eq!(r, [2, 3, 4]);
/// ```
pub fn partial<'a, F, X, Args>(f: F, x: X) -> F::Bound
where
    F: BindFirst<'a, X, Args>,
{
    f.bind_first(x)
}

/// Binds the last argument of `f`, like `functools.partial(f, b=x)` for
/// its last parameter.
///
/// ```
/// use filch::{partial_last, Pool};
///
/// fn sub(a: i32, b: i32) -> i32 { a - b }
/// let r: Vec<i32> = Pool::new().map(0..3, partial_last(sub, 3));
/// assert_eq!(r, [-3, -2, -1]);
/// ```
pub fn partial_last<'a, F, X, Args>(f: F, x: X) -> F::Bound
where
    F: BindLast<'a, X, Args>,
{
    f.bind_last(x)
}
