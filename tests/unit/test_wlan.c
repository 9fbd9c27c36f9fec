/* test_wlan.c - network.WLAN semantics on the test board: factory state, errors with
 * MicroPython's texts, connect/status, ifconfig, config(), persistence, reprs. */
#include <stdio.h>
#include <string.h>

#include "net/wlan.h"
#include "testboard.h"

static char out[512];

#define CHECK_ERR(call, code, type, text) do { \
    CHECK_INT((call), (code)); \
    CHECK_STR(wlan_errtype(), (type)); \
    CHECK_STR(wlan_errmsg(), (text)); } while (0)

static const char *ifconfig_repr(int ifc)
{
    hal_ipcfg c;
    CHECK_INT(wlan_ifconfig(ifc, &c), 0);
    wlan_repr_ifconfig(out, sizeof out, &c);
    return out;
}

static const char *config_repr(int ifc, const char *key)
{
    wlan_value v;
    int rc = wlan_config_get(ifc, key, &v);
    if (rc < 0)
        snprintf(out, sizeof out, "%s: %s", wlan_errtype(), wlan_errmsg());
    else
        wlan_repr_value(out, sizeof out, &v);
    return out;
}

static wlan_kw kw_str(const char *key, const char *s)
{
    return (wlan_kw){key, {WLAN_V_STR, 0, s, strlen(s)}};
}
static wlan_kw kw_int(const char *key, int i)
{
    return (wlan_kw){key, {WLAN_V_INT, i, NULL, 0}};
}

static void boot(void)
{
    tb_reset();
    CHECK_INT(wlan_init(), 0);
}

/* power off and on: flash survives, the rest of the board starts afresh */
static void reboot(void)
{
    static char saved[TB_IO_MAX];
    int size = hal_fs_size(BH_WLAN_FILE);
    if (size > 0)
        CHECK_INT(hal_fs_read(BH_WLAN_FILE, 0, saved, (size_t)size), size);
    tb_reset();
    if (size > 0)
        CHECK_INT(hal_fs_write(BH_WLAN_FILE, 0, saved, (size_t)size), 0);
    tb_add_ap("NETGEAR99", "secret99", 3, -72, HAL_AUTH_WPA2_PSK, 0);
    CHECK_INT(wlan_init(), 0);
}

static void test_factory_state(void)
{
    boot();
    CHECK_INT(wlan_active(WLAN_AP), 1);
    CHECK_INT(wlan_active(WLAN_STA), 0);
    CHECK_INT(tb_ap_active, 1);
    CHECK_INT(tb_sta_active, 0);
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'MicroPython-d37fa4'");
    CHECK_STR(config_repr(WLAN_AP, "authmode"), "4");
    CHECK_STR(config_repr(WLAN_AP, "channel"), "1");
    CHECK_STR(config_repr(WLAN_AP, "hidden"), "False");
    CHECK_STR(config_repr(WLAN_AP, "mac"), "b'\\x1a\\xfe4\\xd3\\x7f\\xa4'");
    CHECK_STR(config_repr(WLAN_STA, "mac"), "b'\\x18\\xfe4\\xd3\\x7f\\xa4'");
    CHECK_STR(config_repr(WLAN_STA, "essid"), "''");
    CHECK_STR(config_repr(WLAN_STA, "dhcp_hostname"), "'ESP_D37FA4'");
    CHECK_STR(ifconfig_repr(WLAN_AP),
              "('192.168.4.1', '255.255.255.0', '192.168.4.1', '208.67.222.222')");
    CHECK_STR(ifconfig_repr(WLAN_STA), "('0.0.0.0', '0.0.0.0', '0.0.0.0', '208.67.222.222')");
    CHECK_INT(wlan_status(WLAN_STA), WLAN_STATUS_INACTIVE);
    CHECK_INT(wlan_status(WLAN_AP), -1);
    CHECK_INT(wlan_isconnected(WLAN_STA), 0);
    CHECK_INT(wlan_isconnected(WLAN_AP), 0);
    /* nothing is written until something changes */
    CHECK_INT(wlan_set_active(WLAN_AP, true), 0);
    CHECK_INT(wlan_set_active(WLAN_STA, false), 0);
    CHECK(tb_fs_get(BH_WLAN_FILE) == NULL);

    uint8_t mac[6];
    wlan_mac(WLAN_AP, mac);
    CHECK_INT(mac[0], 0x1a);
    CHECK_INT(mac[5], 0xa4);
}

static void test_errors(void)
{
    boot();
    hal_ap_info aps[4];
    CHECK_ERR(wlan_active(2), BH_ERR_ARG, "ValueError", "");
    CHECK_ERR(wlan_scan(WLAN_AP, aps, 4), BH_ERR_STATE, "OSError", "STA required");
    CHECK_ERR(wlan_scan(WLAN_STA, aps, 4), BH_ERR_STATE, "OSError", "STA must be active");
    CHECK_ERR(wlan_connect(WLAN_AP, "x", "y", NULL), BH_ERR_STATE, "OSError", "STA required");
    CHECK_ERR(wlan_connect(WLAN_STA, "x", "y", NULL), BH_ERR_STATE, "OSError",
              "Cannot set STA config");
    CHECK_ERR(wlan_connect(WLAN_STA, NULL, NULL, NULL), BH_ERR_STATE, "OSError",
              "Cannot connect to AP");
    CHECK_ERR(wlan_disconnect(WLAN_AP), BH_ERR_STATE, "OSError", "STA required");
    CHECK_ERR(wlan_disconnect(WLAN_STA), BH_ERR_STATE, "OSError", "Cannot disconnect from AP");
    CHECK_ERR(wlan_ifconfig_dhcp(WLAN_AP), BH_ERR_STATE, "OSError", "STA required");
    int v;
    CHECK_ERR(wlan_status_param(WLAN_AP, "rssi", &v), BH_ERR_ARG, "ValueError",
              "unknown status param");
    CHECK_ERR(wlan_status_param(WLAN_STA, "signal", &v), BH_ERR_ARG, "ValueError",
              "unknown status param");
    CHECK_STR(config_repr(WLAN_AP, "password"), "ValueError: unknown config param");
    CHECK_STR(config_repr(WLAN_STA, "password"), "ValueError: unknown config param");
    CHECK_STR(config_repr(WLAN_AP, "txpower"), "ValueError: unknown config param");
    CHECK_STR(config_repr(WLAN_STA, "hidden"), "OSError: AP required");
    CHECK_STR(config_repr(WLAN_STA, "channel"), "OSError: AP required");
    CHECK_STR(config_repr(WLAN_STA, "authmode"), "OSError: AP required");
    CHECK_STR(config_repr(WLAN_AP, "dhcp_hostname"), "OSError: STA required");
    CHECK(tb_fs_get(BH_WLAN_FILE) == NULL);   /* failed calls change nothing */
}

static void test_scan(void)
{
    boot();
    tb_add_ap("NETGEAR99", "secret99", 3, -72, HAL_AUTH_WPA2_PSK, 0);
    tb_add_ap("test-net", "pw", 11, -73, HAL_AUTH_WPA2_PSK, 0);
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    CHECK_INT(tb_sta_active, 1);
    CHECK_INT(tb_joins, 0);   /* no saved network: nothing to join */
    hal_ap_info aps[BH_SCAN_MAX];
    uint32_t t0 = tb_now_ms;
    CHECK_INT(wlan_scan(WLAN_STA, aps, BH_SCAN_MAX), 2);
    CHECK(tb_now_ms > t0);   /* it blocks, as in MicroPython */
    CHECK_STR(aps[0].ssid, "NETGEAR99");
    CHECK_INT(aps[1].channel, 11);
    CHECK_INT(wlan_scan(WLAN_STA, aps, 1), 1);
}

static void test_connect_and_status(void)
{
    boot();
    tb_add_ap("NETGEAR99", "secret99", 3, -72, HAL_AUTH_WPA2_PSK, 0);
    tb_add_ap("open", "", 6, -50, HAL_AUTH_OPEN, 0);
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_IDLE);
    int rssi;
    CHECK_INT(wlan_status_param(WLAN_STA, "rssi", &rssi), 0);
    CHECK_INT(rssi, WLAN_RSSI_INVALID);

    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "secret99", NULL), 0);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_CONNECTING);
    CHECK_INT(wlan_isconnected(WLAN_STA), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_GOT_IP);
    CHECK_INT(wlan_isconnected(WLAN_STA), 1);
    CHECK_STR(ifconfig_repr(WLAN_STA),
              "('192.168.0.45', '255.255.255.0', '192.168.0.1', '192.168.0.1')");
    /* lwIP has one DNS server: DHCP's answer shows on the AP too */
    CHECK_STR(ifconfig_repr(WLAN_AP),
              "('192.168.4.1', '255.255.255.0', '192.168.4.1', '192.168.0.1')");
    CHECK_INT(wlan_status_param(WLAN_STA, "rssi", &rssi), 0);
    CHECK_INT(rssi, -72);
    CHECK_STR(config_repr(WLAN_STA, "essid"), "'NETGEAR99'");

    CHECK_INT(wlan_disconnect(WLAN_STA), 0);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_IDLE);
    CHECK_INT(wlan_isconnected(WLAN_STA), 0);
    CHECK_STR(ifconfig_repr(WLAN_STA), "('0.0.0.0', '0.0.0.0', '0.0.0.0', '192.168.0.1')");

    /* connect() again with no arguments uses the saved settings */
    CHECK_INT(wlan_connect(WLAN_STA, NULL, NULL, NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_GOT_IP);

    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "wrong", NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_WRONG_PASSWORD);
    CHECK_INT(wlan_connect(WLAN_STA, "nobody", "x", NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_NO_AP_FOUND);
    tb_join_fail = 1;
    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "secret99", NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_CONNECT_FAIL);
    tb_join_fail = 0;

    /* as MicroPython: given arguments replace all saved ones, so the key is gone */
    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "secret99", NULL), 0);
    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", NULL, NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_WRONG_PASSWORD);
    CHECK_INT(wlan_connect(WLAN_STA, "open", NULL, NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_GOT_IP);

    /* a bssid picks one AP */
    uint8_t wrong[6] = {1, 2, 3, 4, 5, 6};
    CHECK_INT(wlan_connect(WLAN_STA, "open", "", wrong), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_NO_AP_FOUND);

    /* turning the STA off drops the link; status is the SDK's 255 again */
    CHECK_INT(wlan_set_active(WLAN_STA, false), 0);
    CHECK_INT(tb_sta_active, 0);
    CHECK_INT(wlan_status(WLAN_STA), WLAN_STATUS_INACTIVE);
    CHECK_INT(wlan_isconnected(WLAN_STA), 0);
}

static void test_truncation(void)
{
    boot();
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    CHECK_INT(wlan_connect(WLAN_STA, "0123456789012345678901234567890123456789",
                           "0123456789012345678901234567890123456789012345678901234567890123456789",
                           NULL), 0);
    CHECK_STR(config_repr(WLAN_STA, "essid"), "'01234567890123456789012345678901'");
    /* the key is cut to 64 bytes: a network whose password is exactly those 64 accepts it */
    tb_add_ap("01234567890123456789012345678901",
              "0123456789012345678901234567890123456789012345678901234567890123", 1, -40,
              HAL_AUTH_WPA2_PSK, 0);
    CHECK_INT(wlan_connect(WLAN_STA, NULL, NULL, NULL), 0);
    hal_delay_ms(1000);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_GOT_IP);
}

static void test_ifconfig_set(void)
{
    boot();
    tb_add_ap("NETGEAR99", "secret99", 3, -72, HAL_AUTH_WPA2_PSK, 0);
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    uint32_t ip, mask, gw, dns;
    CHECK_INT(wlan_parse_ip("192.168.0.99", 12, &ip), 0);
    CHECK_INT(wlan_parse_ip("255.255.255.0", 13, &mask), 0);
    CHECK_INT(wlan_parse_ip("192.168.0.1", 11, &gw), 0);
    CHECK_INT(wlan_parse_ip("8.8.8.8", 7, &dns), 0);
    hal_ipcfg c = {ip, mask, gw, dns, 0};
    CHECK_INT(wlan_set_ifconfig(WLAN_STA, &c), 0);
    CHECK_STR(ifconfig_repr(WLAN_STA), "('192.168.0.99', '255.255.255.0', '192.168.0.1', '8.8.8.8')");
    /* a static address is used for the next join instead of DHCP */
    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "secret99", NULL), 0);
    hal_delay_ms(1000);
    hal_ipcfg got;
    CHECK_INT(hal_radio_ipcfg(&got), 0);
    CHECK_INT(got.ip, ip);
    CHECK_STR(ifconfig_repr(WLAN_STA), "('192.168.0.99', '255.255.255.0', '192.168.0.1', '8.8.8.8')");
    /* set while connected goes to the radio at once */
    c.ip = 0xC0A80063 + 1;
    CHECK_INT(wlan_set_ifconfig(WLAN_STA, &c), 0);
    CHECK_INT(hal_radio_ipcfg(&got), 0);
    CHECK_INT(got.ip, 0xC0A80064);
    /* back to DHCP */
    CHECK_INT(wlan_ifconfig_dhcp(WLAN_STA), 0);
    hal_delay_ms(1000);
    CHECK_STR(ifconfig_repr(WLAN_STA),
              "('192.168.0.45', '255.255.255.0', '192.168.0.1', '192.168.0.1')");

    /* AP: kept and reported (the board's AP address itself is the port's business) */
    hal_ipcfg ap = {0x0A000001, 0xFF000000, 0x0A000001, 0x01010101, 0};
    CHECK_INT(wlan_set_ifconfig(WLAN_AP, &ap), 0);
    CHECK_STR(ifconfig_repr(WLAN_AP), "('10.0.0.1', '255.0.0.0', '10.0.0.1', '1.1.1.1')");
    /* an interface that is down has no address */
    CHECK_INT(wlan_set_active(WLAN_AP, false), 0);
    CHECK_STR(ifconfig_repr(WLAN_AP), "('0.0.0.0', '0.0.0.0', '0.0.0.0', '1.1.1.1')");

    CHECK_INT(wlan_parse_ip("", 0, &ip), 0);
    CHECK_INT(ip, 0);
    CHECK_ERR(wlan_parse_ip("1.2.3", 5, &ip), BH_ERR_ARG, "ValueError", "invalid arguments");
    CHECK_ERR(wlan_parse_ip("256.1.1.1", 9, &ip), BH_ERR_ARG, "ValueError", "invalid arguments");
    CHECK_ERR(wlan_parse_ip("1.2.3.4x", 8, &ip), BH_ERR_ARG, "ValueError", "invalid arguments");
    CHECK_ERR(wlan_parse_ip("1..2.3", 6, &ip), BH_ERR_ARG, "ValueError", "invalid arguments");
    CHECK_ERR(wlan_parse_ip("1.2.3.4.", 8, &ip), BH_ERR_ARG, "ValueError", "invalid arguments");
    CHECK_ERR(wlan_parse_ip("00001.2.3.4", 11, &ip), BH_ERR_ARG, "ValueError", "invalid arguments");
}

static void test_config_set(void)
{
    boot();
    /* the chapter: ap_if.config(essid='network name', password='password') */
    wlan_kw kw[3] = {kw_str("essid", "network name"), kw_str("password", "password")};
    CHECK_INT(wlan_config_set(WLAN_AP, kw, 2), 0);
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'network name'");
    CHECK(tb_fs_get(BH_WLAN_FILE) != NULL);

    /* all or nothing: a bad channel keeps the old name */
    kw[0] = kw_str("essid", "other");
    kw[1] = kw_int("channel", 14);
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 2), BH_ERR_ARG, "OSError", "can't set AP config");
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'network name'");
    kw[1] = kw_int("channel", 11);
    kw[2] = kw_int("hidden", 1);
    CHECK_INT(wlan_config_set(WLAN_AP, kw, 3), 0);
    CHECK_STR(config_repr(WLAN_AP, "channel"), "11");
    CHECK_STR(config_repr(WLAN_AP, "hidden"), "True");

    /* WPA needs 8+ characters; an open AP needs none */
    kw[0] = kw_str("password", "short");
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_ARG, "OSError", "can't set AP config");
    kw[1] = kw_int("authmode", HAL_AUTH_OPEN);
    CHECK_INT(wlan_config_set(WLAN_AP, kw, 2), 0);
    CHECK_STR(config_repr(WLAN_AP, "authmode"), "0");
    kw[0] = kw_int("authmode", HAL_AUTH_WEP);
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_ARG, "OSError", "can't set AP config");
    kw[0] = kw_str("essid", "");
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_ARG, "OSError", "can't set AP config");

    /* MicroPython's argument errors */
    kw[0] = kw_str("essid", "x");
    kw[1] = kw_int("color", 3);
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 2), BH_ERR_ARG, "ValueError", "unknown config param");
    kw[0] = kw_int("essid", 5);
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_ARG, "TypeError",
              "can't convert 'int' object to str implicitly");
    kw[0] = kw_str("channel", "6");
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_ARG, "TypeError", "can't convert str to int");
    kw[0] = kw_str("essid", "x");
    CHECK_ERR(wlan_config_set(WLAN_STA, kw, 1), BH_ERR_STATE, "OSError", "AP required");
    kw[0] = kw_str("dhcp_hostname", "button");
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_STATE, "OSError", "STA required");
    CHECK_ERR(wlan_config_set(WLAN_STA, kw, 0), BH_ERR_ARG, "TypeError", "can query only one param");
    kw[0] = kw_str("mac", "12345");
    CHECK_ERR(wlan_config_set(WLAN_STA, kw, 1), BH_ERR_ARG, "ValueError", "invalid buffer length");
    kw[0] = kw_int("mac", 5);
    CHECK_ERR(wlan_config_set(WLAN_STA, kw, 1), BH_ERR_ARG, "TypeError",
              "object with buffer protocol required");
    kw[0] = (wlan_kw){"mac", {WLAN_V_BYTES, 0, "\x18\xfe\x34\x00\x00\x01", 6}};
    CHECK_INT(wlan_config_set(WLAN_STA, kw, 1), BH_ERR_UNSUPPORTED);

    /* dhcp_hostname: STA only, and the STA must be on */
    kw[0] = kw_str("dhcp_hostname", "button");
    CHECK_ERR(wlan_config_set(WLAN_STA, kw, 1), BH_ERR_STATE, "OSError", "can't set STA config");
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    kw[0] = kw_str("dhcp_hostname", "dash-button");
    CHECK_INT(wlan_config_set(WLAN_STA, kw, 1), 0);
    CHECK_STR(config_repr(WLAN_STA, "dhcp_hostname"), "'dash-button'");
    CHECK_STR(config_repr(WLAN_STA, "hostname"), "'dash-button'");
    kw[0] = kw_str("hostname", "012345678901234567890123456789012");
    CHECK_ERR(wlan_config_set(WLAN_STA, kw, 1), BH_ERR_ARG, "ValueError", "");

    /* essid is cut to 32 bytes, the AP password to 63 */
    kw[0] = kw_str("essid", "0123456789012345678901234567890123456789");
    kw[1] = kw_str("password", "0123456789012345678901234567890123456789012345678901234567890123456");
    kw[2] = kw_int("authmode", HAL_AUTH_WPA2_PSK);
    CHECK_INT(wlan_config_set(WLAN_AP, kw, 3), 0);
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'01234567890123456789012345678901'");

    /* the ESP8266 refuses AP settings while the AP is off */
    CHECK_INT(wlan_set_active(WLAN_AP, false), 0);
    kw[0] = kw_str("essid", "later");
    CHECK_ERR(wlan_config_set(WLAN_AP, kw, 1), BH_ERR_STATE, "OSError", "can't set AP config");
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'01234567890123456789012345678901'");
}

static void test_persistence(void)
{
    boot();
    tb_add_ap("NETGEAR99", "secret99", 3, -72, HAL_AUTH_WPA2_PSK, 0);
    wlan_kw kw[2] = {kw_str("essid", "my-button"), kw_str("password", "button-pw")};
    CHECK_INT(wlan_config_set(WLAN_AP, kw, 2), 0);
    /* the chapter's connect_wifi() */
    CHECK_INT(wlan_set_active(WLAN_AP, false), 0);
    CHECK_INT(tb_ap_active, 0);
    CHECK_INT(wlan_isconnected(WLAN_STA), 0);
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "secret99", NULL), 0);
    int waited = 0;
    while (!wlan_isconnected(WLAN_STA) && waited++ < 10)
        hal_delay_ms(1000);
    CHECK_INT(waited, 1);
    CHECK_INT(hal_fs_size(BH_WLAN_FILE), 213);

    /* reboot: the STA comes back on and reconnects by itself; the AP stays off */
    reboot();
    CHECK_INT(wlan_active(WLAN_STA), 1);
    CHECK_INT(wlan_active(WLAN_AP), 0);
    CHECK_INT(tb_sta_active, 1);
    CHECK_INT(tb_ap_active, 0);
    CHECK_INT(tb_joins, 1);
    CHECK_INT(wlan_status(WLAN_STA), HAL_LINK_CONNECTING);
    hal_delay_ms(1000);
    CHECK_INT(wlan_isconnected(WLAN_STA), 1);
    CHECK_STR(config_repr(WLAN_STA, "essid"), "'NETGEAR99'");
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'my-button'");
    /* what is not kept: the static address, the host name (as on the ESP8266) */
    CHECK_STR(config_repr(WLAN_STA, "dhcp_hostname"), "'ESP_D37FA4'");

    /* the AP returns with its saved settings */
    CHECK_INT(wlan_set_active(WLAN_AP, true), 0);
    CHECK_INT(tb_ap_active, 1);
    CHECK_STR(config_repr(WLAN_AP, "essid"), "'my-button'");
    reboot();
    CHECK_INT(wlan_active(WLAN_AP), 1);

    /* STA off survives a reboot too, and then nothing joins */
    CHECK_INT(wlan_set_active(WLAN_STA, false), 0);
    reboot();
    CHECK_INT(wlan_active(WLAN_STA), 0);
    CHECK_INT(tb_joins, 0);
    /* on again: the saved network is joined without connect() */
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    CHECK_INT(tb_joins, 1);
    hal_delay_ms(1000);
    CHECK_INT(wlan_isconnected(WLAN_STA), 1);

    /* unchanged settings are not written again (the chapter turns the AP off on every wake) */
    CHECK_INT(wlan_set_active(WLAN_AP, false), 0);
    CHECK_INT(hal_fs_remove(BH_WLAN_FILE), 0);
    CHECK_INT(wlan_set_active(WLAN_AP, false), 0);
    CHECK_INT(wlan_connect(WLAN_STA, "NETGEAR99", "secret99", NULL), 0);
    CHECK(tb_fs_get(BH_WLAN_FILE) == NULL);
}

static void test_bad_file(void)
{
    boot();
    CHECK_INT(wlan_set_active(WLAN_STA, true), 0);
    static uint8_t good[213];
    CHECK_INT(hal_fs_read(BH_WLAN_FILE, 0, good, sizeof good), 213);

    tb_reset();
    tb_fs_put(BH_WLAN_FILE, "hello");
    CHECK_INT(wlan_init(), 0);
    CHECK_INT(wlan_active(WLAN_STA), 0);
    CHECK_INT(wlan_active(WLAN_AP), 1);
    CHECK_STR(tb_reports, "wifi wlan.cfg -13 wlan.cfg ignored (wrong size): using the factory "
                          "Wi-Fi settings\n");

    uint8_t bad[213];
    memcpy(bad, good, sizeof bad);
    bad[50] ^= 1;
    tb_reset();
    CHECK_INT(hal_fs_write(BH_WLAN_FILE, 0, bad, sizeof bad), 0);
    CHECK_INT(wlan_init(), 0);
    CHECK_INT(wlan_active(WLAN_STA), 0);
    CHECK(strstr(tb_reports, "(checksum mismatch)") != NULL);
    /* the bad file is replaced at the next set, even one that changes nothing */
    CHECK_INT(wlan_set_active(WLAN_AP, true), 0);
    CHECK_INT(hal_fs_size(BH_WLAN_FILE), 213);
    tb_reports[0] = 0;
    CHECK_INT(wlan_init(), 0);
    CHECK_STR(tb_reports, "");

    memcpy(bad, good, sizeof bad);
    bad[4] = 2;
    tb_reset();
    CHECK_INT(hal_fs_write(BH_WLAN_FILE, 0, bad, sizeof bad), 0);
    CHECK_INT(wlan_init(), 0);
    CHECK(strstr(tb_reports, "(written by another firmware version)") != NULL);

    tb_reset();
    CHECK_INT(hal_fs_write(BH_WLAN_FILE, 0, good, sizeof good), 0);
    CHECK_INT(wlan_init(), 0);
    CHECK_INT(wlan_active(WLAN_STA), 1);
    CHECK_STR(tb_reports, "");

    /* flash full: the change still happens now, the caller hears it was not saved */
    boot();
    tb_fs_capacity = 0;
    CHECK_ERR(wlan_set_active(WLAN_AP, false), BH_ERR_FULL, "OSError",
              "can't save Wi-Fi settings to wlan.cfg: flash full");
    CHECK_INT(wlan_active(WLAN_AP), 0);
    CHECK_INT(tb_ap_active, 0);
}

static void test_reprs(void)
{
    /* the chapter's scan() line */
    hal_ap_info aps[2] = {
        {"NETGEAR99", {0xa0, 0x40, 0xa0, 0x91, 0x7d, 0xac}, 3, -72, 3, 0},
        {"test-net", {0x70, 0x50, 0xaf, 0xc9, 0x90, 0xd2}, 11, -73, 3, 0},
    };
    wlan_repr_scan(out, sizeof out, aps, 2);
    CHECK_STR(out, "[(b'NETGEAR99', b'\\xa0@\\xa0\\x91}\\xac', 3, -72, 3, 0), "
                   "(b'test-net', b'pP\\xaf\\xc9\\x90\\xd2', 11, -73, 3, 0)]");
    wlan_repr_scan_entry(out, sizeof out, &aps[0]);
    CHECK_STR(out, "(b'NETGEAR99', b'\\xa0@\\xa0\\x91}\\xac', 3, -72, 3, 0)");
    wlan_repr_scan(out, sizeof out, aps, 0);
    CHECK_STR(out, "[]");
    /* from the chapter's comments: a " inside stays as is */
    hal_ap_info c[2] = {
        {"Honor 9N_B85F", {0x3c, 0xcd, 0x5d, 0x88, 0x74, 0x22}, 1, -45, 3, 0},
        {"ghouse_new", {0x1c, 0x5f, 0x2b, 0x8d, 0xde, 0x34}, 11, -50, 4, 0},
    };
    wlan_repr_scan(out, sizeof out, c, 2);
    CHECK_STR(out, "[(b'Honor 9N_B85F', b'<\\xcd]\\x88t\"', 1, -45, 3, 0), "
                   "(b'ghouse_new', b'\\x1c_+\\x8d\\xde4', 11, -50, 4, 0)]");

    /* MicroPython's quote choice and escapes */
    wlan_repr_bytes(out, sizeof out, (const uint8_t *)"it's", 4);
    CHECK_STR(out, "b\"it's\"");
    wlan_repr_bytes(out, sizeof out, (const uint8_t *)"it's \"q\"", 8);
    CHECK_STR(out, "b'it\\'s \"q\"'");
    wlan_repr_bytes(out, sizeof out, (const uint8_t *)"\\\n\r\t\x7f\x00\xff", 7);
    CHECK_STR(out, "b'\\\\\\n\\r\\t\\x7f\\x00\\xff'");
    wlan_repr_str(out, sizeof out, "caf\xc3\xa9\x01", 6);
    CHECK_STR(out, "'caf\xc3\xa9\\x01'");
    wlan_repr_str(out, sizeof out, "", 0);
    CHECK_STR(out, "''");

    hal_ipcfg ip = {0xC0A8002D, 0xFFFFFF00, 0xC0A80001, 0xC0A80001, 0};
    wlan_repr_ifconfig(out, sizeof out, &ip);
    CHECK_STR(out, "('192.168.0.45', '255.255.255.0', '192.168.0.1', '192.168.0.1')");
    wlan_fmt_ip(out, sizeof out, 0xFFFFFFFF);
    CHECK_STR(out, "255.255.255.255");

    wlan_value v = {WLAN_V_INT, -72, NULL, 0};
    wlan_repr_value(out, sizeof out, &v);
    CHECK_STR(out, "-72");
    v = (wlan_value){WLAN_V_BOOL, 1, NULL, 0};
    wlan_repr_value(out, sizeof out, &v);
    CHECK_STR(out, "True");
    v = (wlan_value){WLAN_V_STR, 0, "it's", 4};
    wlan_repr_value(out, sizeof out, &v);
    CHECK_STR(out, "\"it's\"");

    /* snprintf-style: cut, NUL-terminated, full length returned */
    char small[8];
    CHECK_INT(wlan_repr_ifconfig(small, sizeof small, &ip), 63);
    CHECK_STR(small, "('192.1");
    CHECK_INT(wlan_repr_bytes(NULL, 0, (const uint8_t *)"ab", 2), 5);
}

int main(void)
{
    test_factory_state();
    test_errors();
    test_scan();
    test_connect_and_status();
    test_truncation();
    test_ifconfig_set();
    test_config_set();
    test_persistence();
    test_bad_file();
    test_reprs();
    return tb_done("test_wlan");
}
