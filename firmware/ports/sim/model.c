/* model.c - what a wake would cost on a real ESP8266: the figures, and the wake report.
 *
 * The simulated radio is fast on purpose (tests must not wait seconds for a scan), so the
 * report does not use the simulator's own durations for the radio steps: each counted step
 * replaces its real duration by the published figure below (the "delta" the radio code adds
 * up), and everything else the firmware spent awake (its blinks and waits) is kept as the
 * board's clock measured it (log.c: the waits, not the host's pace in between). Network
 * steps that took longer for real than the figure (a slow server, a timeout) keep their real
 * duration: the ESP8266 would have waited as long. docs/energy-model.md
 * explains each figure; keep the two in step. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "sim.h"

/* Order matches the M_* indices in sim.h. Sources are the ones in performance.md. */
const sim_figure sim_model[] = {
    [M_BOOT] = {"boot_ms", 113, "ms", "reset to the firmware's first instruction after deep "
                "sleep, RF initialised without a full calibration",
                "113 ms reset to sketch, PPK2 trace (pokewithastick.net 2022); a full RF "
                "calibration adds about 200 ms (esp8266/Arduino#3408, ESP8266_NONOS_SDK#122)"},
    [M_SCAN] = {"scan_ms", 1500, "ms", "scan of all channels (an explicit scan, or the one a "
                "join without a saved BSSID and channel starts with)",
                "normal connect 3 s typical (esp8266/Arduino#2735, bakke.online part 3) minus "
                "association and DHCP"},
    [M_ASSOC] = {"assoc_ms", 160, "ms", "WPA2 association and 4-way handshake to a known BSSID "
                 "and channel, the SDK reusing the key it derived from the password",
                 "160 ms sketch start to connected (pokewithastick.net, PPK2); 167 to 170 ms "
                 "including an MQTT publish (johnmu.com 2022-esp8266-wifi-speed)"},
    [M_DHCP] = {"dhcp_ms", 1000, "ms", "DHCP exchange", "cron.dk: about 1 s or more"},
    [M_DNS] = {"dns_ms", 30, "ms", "one DNS look-up on the LAN (floor)",
               "plain request on a LAN: tens of ms (esp8266/Arduino#506)"},
    [M_TCP] = {"tcp_ms", 40, "ms", "TCP connect and one small request (floor)",
               "plain request on a LAN: tens of ms (esp8266/Arduino#506)"},
    [M_TLS] = {"tls_ms", 2000, "ms", "full TLS handshake (floor)",
               "0.5 to 5 s (esp8266/Arduino#4738, #8505)"},
    [M_TLS_RESUMED] = {"tls_resumed_ms", 50, "ms", "resumed TLS 1.2 handshake: one round trip "
                       "and no public-key work (floor)", "a round trip as tcp_ms plus about 10 ms "
                       "of hashing; 386 ms against 2042 ms for a full handshake, both with a "
                       "request over the Internet (esp8266/Arduino#5160)"},
    [M_RADIO_MA] = {"awake_mA", 75, "mA", "current while awake with the radio on",
                    "70 to 80 mA (bakke.online, cron.dk, mat.8u.cz)"},
    [M_SLEEP_UA] = {"sleep_uA", 20, "uA", "deep sleep, bare chip", "ESP8266EX datasheet"},
    [M_COUNT] = {NULL, 0, NULL, NULL, NULL},
};

double sim_model_get(const char *key)
{
    for (int i = 0; sim_model[i].key; i++)
        if (strcmp(sim_model[i].key, key) == 0)
            return sim_model[i].value;
    return 0;
}

uint16_t sim_supply_mv(void)
{
    if (sim_w.battery_mAs <= 0)
        return 3300;
    double left = sim_sh->battery_left_mAs > 0 ? sim_sh->battery_left_mAs / sim_w.battery_mAs : 0;
    double span = (double)sim_w.battery_full_mv - (double)sim_w.battery_empty_mv;
    return (uint16_t)((double)sim_w.battery_empty_mv + span * left + 0.5);
}

void sim_report(const sim_counts *c, uint32_t real_ms, uint32_t board_ms, const char *end)
{
    /* the board's time, not the host's: what the firmware waited, each radio and network
     * step at its figure; how fast the host ran the code in between does not count */
    int64_t radio = (int64_t)SIM_MODEL(M_BOOT) + board_ms + c->delta_ms;
    if (radio < (int64_t)SIM_MODEL(M_BOOT))
        radio = (int64_t)SIM_MODEL(M_BOOT);
    double mAs = (double)radio / 1000.0 * SIM_MODEL(M_RADIO_MA);
    /* the same charge spent in deep sleep instead, to make the number mean something */
    double sleep_h = mAs / (SIM_MODEL(M_SLEEP_UA) / 1000.0) / 3600.0;
    /* a wake reported again (after idle) drains only what it spent since */
    sim_sh->battery_left_mAs -= mAs - sim_sh->wake_drained_mAs;
    sim_sh->wake_drained_mAs = mAs;
    char battery[48] = "";
    if (sim_w.battery_mAs > 0)
        snprintf(battery, sizeof battery, "\n  battery %u mV (%.1f mAs left)",
                 (unsigned)sim_supply_mv(),
                 sim_sh->battery_left_mAs > 0 ? sim_sh->battery_left_mAs : 0.0);

    sim_ev e;
    ev_begin(&e, "report");
    ev_str(&e, "end", end);
    ev_int(&e, "scans", c->scans);
    ev_int(&e, "assocs", c->assocs);
    ev_int(&e, "dhcp", c->dhcp);
    ev_int(&e, "dns", c->dns);
    ev_int(&e, "tcp", c->tcp);
    ev_int(&e, "tls", c->tls);
    ev_int(&e, "tls_resumed", c->tls_resumed);
    ev_int(&e, "tx_packets", c->tx_packets);
    ev_int(&e, "tx_bytes", (long long)c->tx_bytes);
    ev_int(&e, "rx_bytes", (long long)c->rx_bytes);
    ev_int(&e, "radio_ms", radio);
    ev_num1(&e, "energy_mAs", mAs);
    ev_int(&e, "real_ms", real_ms);
    ev_int(&e, "board_ms", board_ms);
    if (c->last_wake[0])
        ev_str(&e, "last_wake_failed", c->last_wake);
    if (sim_w.battery_mAs > 0)
        ev_int(&e, "battery_mv", sim_supply_mv());
    ev_end(&e);

    /* one sim_say: the report's lines stay together on the terminal */
    sim_say("wake report (boot %u, %s; modeled on an ESP8266):\n"
            "  scans %u  assocs %u  dhcp %u  dns %u  tcp %u  tls %u (resumed %u)  sent %llu B in "
            "%u packets  received %llu B\n"
            "  awake with radio on %lld ms at %.0f mA = %.1f mAs (= %.1f h of deep sleep at "
            "%.0f uA); simulated in %u ms%s%s%s",
            (unsigned)sim_sh->boot, end, (unsigned)c->scans, (unsigned)c->assocs,
            (unsigned)c->dhcp, (unsigned)c->dns, (unsigned)c->tcp, (unsigned)c->tls,
            (unsigned)c->tls_resumed, (unsigned long long)c->tx_bytes, (unsigned)c->tx_packets,
            (unsigned long long)c->rx_bytes, (long long)radio, SIM_MODEL(M_RADIO_MA), mAs,
            sleep_h, SIM_MODEL(M_SLEEP_UA), (unsigned)real_ms,
            c->last_wake[0] ? "\n  the wake before failed in " : "", c->last_wake, battery);
}
