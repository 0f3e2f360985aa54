// The C API of gbench.h over Google Benchmark (libbenchmark-dev).
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <string>

struct sn_gbench_state {
    benchmark::State *state;
};

extern "C" void sn_gbench_register(const char *name, sn_gbench_fn fn, void *arg) {
    benchmark::RegisterBenchmark(std::string(name).c_str(), [fn, arg](benchmark::State &st) {
        sn_gbench_state s{&st};
        fn(&s, arg);
    });
}

extern "C" bool sn_gbench_keep_running(sn_gbench_state *s) { return s->state->KeepRunning(); }

extern "C" void sn_gbench_pause(sn_gbench_state *s) { s->state->PauseTiming(); }

extern "C" void sn_gbench_resume(sn_gbench_state *s) { s->state->ResumeTiming(); }

extern "C" void sn_gbench_counter(sn_gbench_state *s, const char *name, double value,
                                  sn_gbench_counter_kind kind) {
    s->state->counters[name] = benchmark::Counter(
        value, kind == SN_GBENCH_RATE ? benchmark::Counter::kIsIterationInvariantRate
                                      : benchmark::Counter::kDefaults);
}

extern "C" void sn_gbench_skip(sn_gbench_state *s, const char *message) {
    s->state->SkipWithError(message);
}

extern "C" int sn_gbench_main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
