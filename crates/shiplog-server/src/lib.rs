//! shiplog's team server (work in progress).
