//! Interface names by index, as the kernel has them now.

/// The kernel's name for `ifindex` now, `None` if no interface has it.
pub fn name(ifindex: u32) -> Option<String> {
    let mut name = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `name` has the IF_NAMESIZE bytes if_indextoname writes at most
    // (the name and its NUL); on success it holds a NUL-terminated string.
    let found = unsafe { libc::if_indextoname(ifindex, name.as_mut_ptr()) };
    if found.is_null() {
        return None;
    }
    // SAFETY: if_indextoname succeeded, so `name` is NUL-terminated.
    let name = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}
