"""I/O adapters. Each source returns data or an error value; none of them touches a widget."""
