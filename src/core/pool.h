/* pool.h - a fixed pool of worker threads running submitted jobs.
 *
 * Readers decode independent pieces (EVTX chunks, files) in parallel; the caller keeps a window of
 * jobs in flight and waits for each in submission order, so output order never depends on thread
 * timing. Ownership: the caller owns each struct kz_job and must keep it alive until kz_job_wait
 * returns. */
#ifndef KZ_POOL_H
#define KZ_POOL_H

#include <pthread.h>

struct kz_pool;

struct kz_job {
    void (*run)(void *arg); /* the work; runs on a worker thread */
    void *arg;
    /* private to the pool: */
    struct kz_job *next;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* Number of CPUs available to this process (at least 1). */
int kz_cpu_count(void);
/* Starts `threads` workers (threads <= 0: one per CPU). Returns NULL when out of memory. */
struct kz_pool *kz_pool_new(int threads);
int kz_pool_threads(const struct kz_pool *p);
/* Queues job; run(arg) will be called once on some worker. */
void kz_pool_submit(struct kz_pool *p, struct kz_job *job, void (*run)(void *), void *arg);
/* Blocks until job has run. */
void kz_job_wait(struct kz_job *job);
/* Waits for all queued jobs, stops the workers and frees the pool. */
void kz_pool_free(struct kz_pool *p);

#endif
