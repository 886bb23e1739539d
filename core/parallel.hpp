// attnviz core — a tiny fork-join helper on std::thread (no OpenMP: no idle wake-up cost, no
// spinning threads between edits; starting a thread costs ~50 µs, so callers use it only for
// work of a millisecond or more).
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace attnviz {

// The number of threads to use when the caller asked for `requested` (0 = all cores).
inline int resolve_threads(int requested) {
    if (requested > 0) return requested;
    const unsigned hc = std::thread::hardware_concurrency();
    return hc == 0 ? 1 : static_cast<int>(std::min(hc, 64u));
}

// Calls fn(i) for i in [0, count) on up to `threads` threads (the caller's thread is one of them).
// Items are handed out one at a time, so uneven items balance themselves. An exception thrown by
// fn stops the loop and is rethrown on the caller's thread.
// parallel_for_workers passes the worker number too (fn(i, worker), worker < threads), for
// per-worker scratch buffers.
template <class F>
void parallel_for_workers(int count, int threads, F&& fn) {
    threads = std::max(1, std::min(threads, count));
    if (threads <= 1) {
        for (int i = 0; i < count; ++i) fn(i, 0);
        return;
    }
    std::atomic<int> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&](int w) {
        try {
            for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) fn(i, w);
        } catch (...) {  // first error wins; the others stop taking items
            next.store(count);
            std::lock_guard lock(error_mutex);
            if (!error) error = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads - 1));
    for (int t = 1; t < threads; ++t) pool.emplace_back(worker, t);
    worker(0);
    for (auto& th : pool) th.join();
    if (error) std::rethrow_exception(error);
}

template <class F>
void parallel_for(int count, int threads, F&& fn) {
    parallel_for_workers(count, threads, [&](int i, int) { fn(i); });
}

}  // namespace attnviz
