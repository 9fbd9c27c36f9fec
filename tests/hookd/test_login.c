/* test_login.c - the password guessing defences (hookd/src/login.c) on a clock the test
 * moves: the free failures, the doubling delays and their caps per address and per account,
 * Retry-After, the known address that skips the account's delay, forgetting, an attempt taken
 * back, and the hash pool's bounded queue. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "login.h"

static const hk_login_cfg CFG = {.free_failures = 3, .delay_ms = 1000, .max_delay_s = 8,
                                 .account_max_delay_s = 4, .forget_s = 60, .hash_threads = 1,
                                 .queue = 2};

/* one wrong password from ip at now: admitted? */
static bool wrong(hk_login *l, const char *ip, int64_t now, int *retry, const char **which)
{
    if (!hk_login_admit(l, ip, now, retry, which))
        return false;
    hk_login_done(l, ip, HK_LOGIN_WRONG, now);
    return true;
}

static void address_delays(void)
{
    hk_login_cfg c = CFG;
    c.account_max_delay_s = 1;   /* small, so the address's own delay is what shows */
    hk_login *l = hk_login_new(&c);
    int retry;
    const char *which;
    int64_t t = 1000000;
    for (int i = 0; i < 3; i++)
        CHECK(wrong(l, "10.0.0.1", t, &retry, &which), "free failure %d", i);
    /* the 4th waits 1 s, then 2, 4, 8, 8 (capped) */
    int64_t expect[] = {1, 2, 4, 8, 8};
    for (int i = 0; i < 5; i++) {
        CHECK(!hk_login_admit(l, "10.0.0.1", t, &retry, &which), "delay %d admitted", i);
        CHECK(retry == expect[i], "delay %d: Retry-After %d, not %lld", i, retry,
              (long long)expect[i]);
        CHECK(strcmp(which, "address") == 0, "which: %s", which);
        t += expect[i] * 1000;
        CHECK(wrong(l, "10.0.0.1", t, &retry, &which), "after delay %d refused (%d)", i, retry);
    }
    /* forgotten after forget_s without a failure */
    t += 60 * 1000;
    CHECK(wrong(l, "10.0.0.1", t, &retry, &which), "not forgotten");
    hk_login_free(l);
}

static void account_delays_and_known_address(void)
{
    hk_login *l = hk_login_new(&CFG);
    int retry;
    const char *which;
    int64_t t = 5000000;
    /* the admin logs in from 10.0.0.9: known from now on */
    CHECK(hk_login_admit(l, "10.0.0.9", t, &retry, &which), "first login refused");
    hk_login_done(l, "10.0.0.9", HK_LOGIN_OK, t);
    /* guesses from many addresses: three free for the account, then its delay */
    char ip[32];
    int admitted = 0, refused_account = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(ip, sizeof ip, "10.1.0.%d", i);
        if (wrong(l, ip, t + i * 10, &retry, &which))
            admitted++;
        else if (strcmp(which, "account") == 0 && retry >= 1 && retry <= 4)
            refused_account++;
    }
    CHECK(admitted == 3, "%d guesses from new addresses admitted", admitted);
    CHECK(refused_account == 37, "%d refused for the account", refused_account);
    /* the known address is not held by the account's delay */
    CHECK(hk_login_admit(l, "10.0.0.9", t + 500, &retry, &which), "the admin locked out (%s)",
          which);
    hk_login_done(l, "10.0.0.9", HK_LOGIN_OK, t + 500);
    /* and a new address waits at most account_max_delay_s, however long the guessing */
    int64_t u = t + 1000;
    for (int i = 0; i < 50; i++) {
        snprintf(ip, sizeof ip, "10.2.0.%d", i);
        if (!hk_login_admit(l, ip, u, &retry, &which)) {
            CHECK(retry <= 4, "Retry-After %d over the account's cap", retry);
            u += retry * 1000;
            CHECK(hk_login_admit(l, ip, u, &retry, &which), "refused after its Retry-After");
        }
        hk_login_done(l, ip, HK_LOGIN_WRONG, u);
    }
    hk_login_free(l);
}

static void attempt_taken_back(void)
{
    hk_login *l = hk_login_new(&CFG);
    int retry;
    const char *which;
    /* bad bodies (OTHER) do not count: many in a row stay admitted */
    for (int i = 0; i < 20; i++) {
        CHECK(hk_login_admit(l, "10.3.0.1", 1000 + i, &retry, &which), "other %d refused", i);
        hk_login_done(l, "10.3.0.1", HK_LOGIN_OTHER, 1000 + i);
    }
    /* IPv6: one /64 is one address */
    for (int i = 0; i < 3; i++) {
        char ip[64];
        snprintf(ip, sizeof ip, "2001:db8::%x", i + 1);
        CHECK(wrong(l, ip, 2000, &retry, &which), "v6 free failure %d", i);
    }
    CHECK(!hk_login_admit(l, "2001:db8::ffff", 2000, &retry, &which), "another in the /64");
    CHECK(strcmp(which, "address") == 0, "which: %s", which);
    hk_login_free(l);
}

/* ---- the pool ---- */

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static atomic_int ran;

static void job(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate);   /* held by the test: the thread waits here */
    pthread_mutex_unlock(&gate);
    atomic_fetch_add(&ran, 1);
}

static void pool_queue_is_bounded(void)
{
    hk_login *l = hk_login_new(&CFG);   /* one thread, a queue of 2 */
    pthread_mutex_lock(&gate);
    CHECK(hk_login_submit(l, job, NULL) == 0, "first");
    for (int i = 0; i < 200 && atomic_load(&ran) == 0; i++)
        usleep(1000);   /* let the thread take it (and block on the gate) */
    CHECK(hk_login_submit(l, job, NULL) == 0, "second (queued)");
    CHECK(hk_login_submit(l, job, NULL) == 0, "third (queued)");
    CHECK(hk_login_submit(l, job, NULL) != 0, "fourth accepted beyond the queue");
    pthread_mutex_unlock(&gate);
    hk_login_stop(l);   /* runs what was queued */
    CHECK(atomic_load(&ran) == 3, "%d jobs ran", atomic_load(&ran));
    CHECK(hk_login_submit(l, job, NULL) != 0, "accepted after stop");
    hk_login_free(l);
}

int main(void)
{
    address_delays();
    account_delays_and_known_address();
    attempt_taken_back();
    pool_queue_is_bounded();
    printf("test_login: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
