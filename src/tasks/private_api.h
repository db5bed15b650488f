/* The library's private API as the command-line tool uses it: the one header of src/ that
 * src/cli includes (through cli.h; docs/architecture.md). The task models with their options
 * and runs, the loaders whose figures the tool prints, the RL environments and data recipe,
 * and the base helpers. Applications use include/ instead. */
#ifndef AAREN_TASKS_PRIVATE_API_H
#define AAREN_TASKS_PRIVATE_API_H
#include "aaren.h"
#include "aaren_io.h"
#include "aaren_tasks.h"
#include "base/common.h"
#include "base/process.h"
#include "base/rng.h"
#include "data/d4rl.h"
#include "data/events.h"
#include "data/timeseries.h"
#include "data/uea.h"
#include "rl/env.h"
#include "rl/make.h"
#include "rl/policy.h"
#include "tasks/classify.h"
#include "tasks/dt.h"
#include "tasks/dt_stream.h"
#include "tasks/forecast.h"
#include "tasks/synthetic.h"
#include "tasks/tpp.h"
#endif
