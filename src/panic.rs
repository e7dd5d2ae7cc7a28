//! Containing a panic (a bug) to the task or thread it happened in: the
//! session tasks, the VTEP's reconciler task and its netlink threads are
//! each restarted by their supervisor instead of taking the daemon down.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls a future and turns a panic in it into `Err`, like `catch_unwind`
/// for a thread (futures-util has this; not worth the dependency for one
/// type). The future is boxed so pinning needs no unsafe code.
pub struct CatchUnwind<F>(pub Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// The panic's message, for the log.
pub fn message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_future_is_an_error_with_its_message() {
        let ok = CatchUnwind(Box::pin(async { 7 })).await;
        assert_eq!(ok.ok(), Some(7));
        let number = 3;
        let failed = CatchUnwind(Box::pin(async move {
            if number == 3 {
                panic!("bug number {number}");
            }
        }))
        .await;
        assert_eq!(message(&*failed.unwrap_err()), "bug number 3");
        let fixed = CatchUnwind(Box::pin(async { panic!("fixed text") })).await;
        assert_eq!(message(&*fixed.unwrap_err()), "fixed text");
    }
}
