// The simulated board's inputs. The UART receive side: `uart.read(ptr, cap)` copies up to `cap`
// received bytes to `ptr` and returns how many (0 when none are waiting). On a real board this
// would read the UART's data register or an interrupt-filled buffer. (Sending goes through the
// core's own `taskscope.link_write` import.)

// @ts-ignore: decorator
@external("uart", "read")
export declare function uartRead(ptr: usize, cap: i32): i32;

// And a button, wired by the simulator: a request to wind down (a test wants the looping
// scenario to end after its current round, so it knows when recording is over).
// @ts-ignore: decorator
@external("board", "wind_down")
export declare function windDownRequested(): bool;
