/* pool.c - worker threads with a FIFO job queue; see pool.h. */
#include "pool.h"

#include "alloc.h"

#include <unistd.h>

struct kz_pool {
    pthread_mutex_t mu;
    pthread_cond_t has_work;
    struct kz_job *head, *tail; /* FIFO of queued jobs */
    int stopping;
    int nthreads;
    pthread_t threads[];
};

int kz_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void *worker(void *arg) {
    struct kz_pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->has_work, &p->mu);
        struct kz_job *job = p->head;
        if (!job) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = job->next;
        if (!p->head) p->tail = NULL;
        pthread_mutex_unlock(&p->mu);

        job->run(job->arg);

        pthread_mutex_lock(&job->mu);
        job->done = 1;
        pthread_cond_broadcast(&job->cv);
        pthread_mutex_unlock(&job->mu);
    }
}

struct kz_pool *kz_pool_new(int threads) {
    if (threads <= 0) threads = kz_cpu_count();
    if (threads > 256) threads = 256;
    struct kz_pool *p = kz_calloc(1, sizeof *p + (size_t)threads * sizeof(pthread_t));
    if (!p) return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->has_work, NULL);
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p)) break;
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        kz_free(p);
        return NULL;
    }
    return p;
}

int kz_pool_threads(const struct kz_pool *p) {
    return p->nthreads;
}

void kz_pool_submit(struct kz_pool *p, struct kz_job *job, void (*run)(void *), void *arg) {
    job->run = run;
    job->arg = arg;
    job->next = NULL;
    job->done = 0;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->has_work);
    pthread_mutex_unlock(&p->mu);
}

void kz_job_wait(struct kz_job *job) {
    pthread_mutex_lock(&job->mu);
    while (!job->done)
        pthread_cond_wait(&job->cv, &job->mu);
    pthread_mutex_unlock(&job->mu);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
}

void kz_pool_free(struct kz_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->has_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->has_work);
    kz_free(p);
}
