/* The taskscope port for the host build of the bench (x86-64 under callgrind): the same counter
 * clock the C ring reads, no link, no lock. */
#ifndef TASKSCOPE_PORT_H
#define TASKSCOPE_PORT_H

#include "bench.h"

#define TASKSCOPE_PORT_CLOCK() bench_clock()

#endif
