//! The `schleuse audit …` subcommands (wired into `main.rs` by the integrator).
