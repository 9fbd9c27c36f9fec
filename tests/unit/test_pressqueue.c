/* test_pressqueue.c - no press is lost (docs/press-queue.md): the queue of presses in RTC
 * memory (rtc_state.c), their Idempotency-Keys, the retries on the next press or a timed wake,
 * and the awake bound (main.c), on the test board with its fake clock. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/rtc_state.h"
#include "bh_opts.h"
#include "testboard.h"

static char config[1024];
static int no_ap;   /* the next wakes find no access point (1), or one with another password (2) */

/* The next boot of one board: RTC memory kept (unless power-on), everything else fresh. */
static void wake(hal_reset_cause_t cause, int64_t slept_ms)
{
    tb_wake(cause, slept_ms);
    tb_fs_put("config.py", config);
    if (no_ap != 1)
        tb_add_ap("home-net", no_ap ? "changed" : "correct horse", 6, -58, HAL_AUTH_WPA2_PSK, 0);
    tb_dns_add("hooks.example", TB_IP_HOOK);
}

static void power_on(const char *extra)
{
    snprintf(config, sizeof config, "%s%s", TB_CONFIG, extra ? extra : "");
    wake(HAL_RESET_PWRON, -1);
    tb_boot();
}

static press_queue queue(void)
{
    press_queue q;
    memcpy(&q, tb_rtc + PQ_OFFSET, sizeof q);
    return q;
}

/* The Idempotency-Key a peer received ("" if none). */
static const char *key_of(const tb_peer *p)
{
    static char key[64];
    const char *k = strstr(p->sent, "\r\nIdempotency-Key: ");
    key[0] = 0;
    if (k) {
        k += 19;
        size_t n = strcspn(k, "\r");
        snprintf(key, sizeof key, "%.*s", (int)n, k);
    }
    return key;
}

/* ---- the record ---------------------------------------------------------------------------- */

static void test_record_layout(void)
{
    /* 0..63 the fast-wake record, 64..235 the queue, 236.. the TLS session's */
    CHECK_INT(PQ_OFFSET, sizeof(rtc_state));
    CHECK_INT(PQ_OFFSET + sizeof(press_queue), HAL_RTC_TLS_OFF);
    CHECK_INT(sizeof(press_queue) % 4, 0);
}

static void test_record_round_trip_and_corruption(void)
{
    press_queue q, back;
    tb_reset();
    CHECK_INT(pq_load(&q), BH_ERR_NOENT);           /* power-on: empty, a fresh id */
    CHECK(q.boot_id != 0);
    CHECK_INT(q.count, 0);
    for (int i = 0; i < 3; i++)
        pq_push(&q);
    CHECK_INT(pq_save(&q), BH_OK);
    CHECK_INT(pq_load(&back), BH_OK);
    CHECK(memcmp(&q, &back, sizeof q) == 0);
    CHECK_INT(back.seq[0], 0);
    CHECK_INT(back.seq[2], 2);
    /* one flipped bit anywhere in the queue: ignored, never trusted; other records untouched */
    for (size_t i = 0; i < sizeof q; i++) {
        CHECK_INT(pq_save(&q), BH_OK);
        tb_rtc[PQ_OFFSET + i] ^= 0x04;
        CHECK_INT(pq_load(&back), BH_ERR_PROTO);
        CHECK_INT(back.count, 0);
    }
    /* an old layout version, and a count that a valid CRC cannot make sensible */
    q.version = PQ_VERSION;
    pq_save(&q);
    memcpy(&back, tb_rtc + PQ_OFFSET, sizeof back);
    back.version = PQ_VERSION + 1;
    back.crc = rtc_crc32(&back, sizeof back - 4);
    memcpy(tb_rtc + PQ_OFFSET, &back, sizeof back);
    CHECK_INT(pq_load(&back), BH_ERR_PROTO);
    pq_load(&q);
    q.count = PQ_MAX + 1;
    pq_save(&q);
    CHECK_INT(pq_load(&back), BH_ERR_PROTO);
    CHECK_INT(back.count, 0);
}

static void test_full_queue_drops_the_oldest(void)
{
    press_queue q;
    tb_reset();
    pq_load(&q);
    for (int i = 0; i < PQ_MAX + 2; i++)
        pq_push(&q);
    CHECK_INT(q.count, PQ_MAX);
    CHECK_INT(q.dropped, 2);
    CHECK_INT(q.seq[0], 2);                          /* presses 0 and 1 went */
    CHECK_INT(q.seq[PQ_MAX - 1], PQ_MAX + 1);
    pq_pop(&q);
    CHECK_INT(q.seq[0], 3);
}

/* ---- the wake -------------------------------------------------------------------------------- */

/* Three presses while the server refuses, then one while it is back: the fourth wake sends all
 * four in order, each with its own key, and the queue is empty. */
static void test_endpoint_down_then_up(void)
{
    power_on(NULL);
    CHECK_INT(tb_sleep_ms, 0);
    for (int i = 1; i <= 3; i++) {
        wake(HAL_RESET_DEEPSLEEP, 5000);
        tb_add_peer(TB_IP_HOOK, 80, NULL)->connect_err = BH_ERR_REFUSED;
        tb_boot();
        CHECK(tb_slept);
        CHECK_INT(queue().count, i);
        CHECK_INT(queue().last_err, BH_ERR_REFUSED);
        CHECK_INT(tb_sleep_ms, 60000);               /* a timed retry wake, RETRY_WAKE = 60 */
        CHECK(tb_npinlog > 0);                       /* the error blink */
    }
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_peer *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(strstr(tb_console, "Last wake failed in call_webhook: connection refused (-7); 3 kept"));
    CHECK(strstr(tb_reports, "info last_wake -7 call_webhook: connection refused (-7); 3 kept"));
    char want[64];
    uint8_t mac[6];
    hal_radio_mac(mac);
    for (int i = 0; i < 4; i++) {
        CHECK(p[i]->used);
        snprintf(want, sizeof want, "%02x%02x%02x%02x%02x%02x-%08lx-%d", mac[0], mac[1], mac[2],
                 mac[3], mac[4], mac[5], (unsigned long)queue().boot_id, i);
        CHECK_STR(key_of(p[i]), want);
    }
    CHECK_INT(queue().count, 0);
    CHECK_INT(queue().last_err, 0);
    CHECK_INT(tb_sleep_ms, 0);                       /* nothing kept: sleep until RESET */
    CHECK_INT(tb_npinlog, 0);
}

/* The request went out but its reply was lost: the press stays, and goes again with the same
 * key (hookd answers the repeat as the same event). */
static void test_reply_lost_is_resent_with_the_same_key(void)
{
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_peer *lost = tb_add_peer(TB_IP_HOOK, 80, NULL);   /* reads the request, closes, no reply */
    tb_boot();
    CHECK(lost->sent_len > 0);
    CHECK_INT(queue().count, 1);
    char first[64];
    snprintf(first, sizeof first, "%s", key_of(lost));
    CHECK(first[0]);
    /* the timer's wake: no new press, the kept one again */
    wake(HAL_RESET_DEEPSLEEP, 60000);
    tb_peer *again = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_peer *extra = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(strstr(tb_console, "Retry wake: 1 kept"));
    CHECK_STR(key_of(again), first);
    CHECK(!extra->used);
    CHECK_INT(queue().count, 0);
}

/* A press during the backoff sleep (shorter than the timer) is a press, not the timer. */
static void test_press_during_backoff_is_a_press(void)
{
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_add_peer(TB_IP_HOOK, 80, NULL)->connect_err = BH_ERR_REFUSED;
    tb_boot();
    wake(HAL_RESET_DEEPSLEEP, 30000);                /* pressed 30 s into a 60 s timer */
    tb_peer *a = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_peer *b = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(a->used && b->used);
    CHECK(strstr(key_of(a), "-0") && strstr(key_of(b), "-1"));
    CHECK_INT(queue().count, 0);
}

/* Timed retries back off (60, 120, 240 s ... up to an hour) and stop after BH_RETRY_WAKES;
 * a press starts them again. RETRY_WAKE = 0: only presses retry. */
static void test_retry_backoff(void)
{
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_boot();                                          /* no peer: refused */
    uint32_t want = 60000;
    int wakes = 0;
    while (tb_sleep_ms && wakes < 20) {
        CHECK_INT(tb_sleep_ms, want);
        uint32_t slept = tb_sleep_ms;
        wake(HAL_RESET_DEEPSLEEP, slept);
        tb_boot();
        wakes++;
        want = want * 2 > 3600000 ? 3600000 : want * 2;
    }
    CHECK_INT(wakes, BH_RETRY_WAKES);
    CHECK_INT(queue().count, 1);                     /* still kept for the next press */
    wake(HAL_RESET_DEEPSLEEP, 999999999);            /* hal_slept_ms: no timer was set */
    tb_boot();
    CHECK_INT(queue().count, 2);
    CHECK_INT(tb_sleep_ms, 60000);

    power_on("RETRY_WAKE = 0\n");
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_boot();
    CHECK_INT(queue().count, 1);
    CHECK_INT(tb_sleep_ms, 0);
}

/* A full queue drops its oldest press and says so. */
static void test_full_queue_on_the_board(void)
{
    power_on("RETRY_WAKE = 0\n");
    for (int i = 0; i < PQ_MAX + 1; i++) {
        wake(HAL_RESET_DEEPSLEEP, 5000);
        tb_boot();
    }
    CHECK(strstr(tb_reports, "info queue -2 queue full: oldest press dropped"));
    CHECK_INT(queue().count, PQ_MAX);
    CHECK_INT(queue().dropped, 1);
    CHECK_INT(queue().seq[0], 1);
}

/* config.py broken at the press: the press is kept, and sent once config.py is fixed. */
static void test_press_kept_through_a_bad_config(void)
{
    power_on(NULL);
    snprintf(config, sizeof config, "WIFI_SSID = 'home-net'\n");
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_boot();
    CHECK_INT(queue().count, 1);
    CHECK_INT(queue().last_where, PQ_AT_CONFIG);
    snprintf(config, sizeof config, "%s", TB_CONFIG);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_peer *a = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_peer *b = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(strstr(tb_console, "Last wake failed in load_config"));
    CHECK(a->used && b->used);
    CHECK_INT(queue().count, 0);
}

/* A new power cycle starts a new id: keys never repeat across power cycles. */
static void test_ids_differ_across_power_cycles(void)
{
    char k1[64];
    tb_random_seed = 11;
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    snprintf(k1, sizeof k1, "%s", key_of(p));
    tb_random_seed = 12;                             /* the hardware RNG gives other bits */
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(strlen(k1) > 22);
    CHECK(strcmp(k1, key_of(p)) != 0);
    CHECK(strstr(k1, "-0") && strstr(key_of(p), "-0"));   /* both first presses */
    tb_random_seed = 1;
}

/* ---- the awake bound --------------------------------------------------------------------- */

/* Each failure ends in deep sleep within AWAKE_MAX (error blink included), and the next wake
 * names it. */
static void test_awake_bound(void)
{
    static const struct {
        const char *name, *extra;
        int ssid_gone, join_ms, peer, err;
        const char *reason;
    } cases[] = {
        {"no AP", "", 1, 0, 0, BH_ERR_NOLINK, "connect_wifi: no AP found (3)"},
        {"wrong password", "", 2, 0, 0, BH_ERR_NOLINK, "connect_wifi: wrong password (2)"},
        {"DHCP silent", "WIFI_TIMEOUT = 60\n", 0, 600000, 0, BH_ERR_TIMEOUT,
         "connect_wifi: timed out"},
        {"server silent", "HTTP_TIMEOUT = 60\n", 0, 0, 1, BH_ERR_TIMEOUT,
         "call_webhook: timed out"},
        {"server 503", "", 0, 0, 2, BH_ERR_PROTO, "call_webhook: HTTP status (503)"},
        {"TLS refused", "WEBHOOK_URL = 'https://hooks.example/x'\n", 0, 0, 4, BH_ERR_TLS,
         "call_webhook: TLS"},
        {"DNS down", "WEBHOOK_URL = 'http://nowhere.example/x'\n", 0, 0, 0, BH_ERR_DNS,
         "call_webhook: host name not found"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "AWAKE_MAX = 12\n%s", cases[i].extra);
        power_on(extra);
        no_ap = cases[i].ssid_gone;
        wake(HAL_RESET_DEEPSLEEP, 5000);
        if (cases[i].join_ms)
            tb_join_ms = (uint32_t)cases[i].join_ms;
        if (cases[i].peer == 1)
            tb_add_peer(TB_IP_HOOK, 80, "")->stall = 1;
        if (cases[i].peer == 4)
            tb_add_peer(TB_IP_HOOK, 443, NULL)->tls_err = BH_ERR_TLS;
        if (cases[i].peer == 2)
            tb_add_peer(TB_IP_HOOK, 80, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
        tb_boot();
        if (!tb_slept || tb_now_ms > 12000 || queue().last_err != cases[i].err)
            printf("  awake bound: %s: slept %d at %lu ms, err %d\n%s", cases[i].name, tb_slept,
                   (unsigned long)tb_now_ms, queue().last_err, tb_reports);
        CHECK(tb_slept);
        CHECK(tb_now_ms <= 12000);
        CHECK_INT(queue().last_err, cases[i].err);
        CHECK_INT(queue().count, 1);
        no_ap = 0;
        wake(HAL_RESET_DEEPSLEEP, 1000);
        tb_join_ms = 600000;                         /* this wake fails too; only its start */
        tb_boot();
        if (!strstr(tb_console, cases[i].reason))
            printf("  %s: %s\n%s", cases[i].name, tb_console, tb_reports);
        CHECK(strstr(tb_console, cases[i].reason));
    }
}

/* A server that refuses over the kept lease proves the lease works: no second, full join and
 * no second request in that wake (a failing server must not cost a scan and DHCP each time). */
static void test_refused_over_the_kept_lease(void)
{
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();                                          /* full join; AP, lease, DNS kept */
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_boot();                                          /* no peer: refused */
    CHECK_INT(tb_joins, 1);
    CHECK(tb_join_static);                           /* over the kept lease */
    CHECK_INT(tb_connects, 2);                       /* the cached address, then asked anew */
    CHECK_INT(tb_dns_lookups, 1);
    CHECK_INT(queue().count, 1);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_peer *p2 = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(p->used && p2->used);                      /* the kept press and this one */
    CHECK_INT(tb_joins, 1);
    CHECK_INT(queue().count, 0);
}

/* The debug jumper keeps the board awake, as in the chapter; the press is still kept. */
static void test_debug_jumper_keeps_the_press(void)
{
    power_on(NULL);
    wake(HAL_RESET_DEEPSLEEP, 5000);
    tb_pin_input[14] = 0;
    tb_boot();
    CHECK(!tb_slept);
    CHECK_INT(queue().count, 1);
}

int main(void)
{
    test_record_layout();
    test_record_round_trip_and_corruption();
    test_full_queue_drops_the_oldest();
    test_endpoint_down_then_up();
    test_reply_lost_is_resent_with_the_same_key();
    test_press_during_backoff_is_a_press();
    test_retry_backoff();
    test_full_queue_on_the_board();
    test_press_kept_through_a_bad_config();
    test_ids_differ_across_power_cycles();
    test_awake_bound();
    test_refused_over_the_kept_lease();
    test_debug_jumper_keeps_the_press();
    return tb_done("test_pressqueue");
}
