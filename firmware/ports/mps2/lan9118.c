/*
 * lan9118.c - a polling driver for the SMSC LAN9118 Ethernet controller of AN385 (as QEMU
 * models it in hw/net/lan9118.c): no interrupts, lwIP's wait loop asks port_eth_input() for
 * frames. Register names and bits are those of SMSC's LAN9118 datasheet.
 */
#include <string.h>

#include "lwip_port.h"
#include "mps2.h"

#define ETH_BASE 0x40200000u
#define REG(off) (*(volatile uint32_t *)(ETH_BASE + (off)))
#define RX_DATA_FIFO REG(0x00)
#define TX_DATA_FIFO REG(0x20)
#define RX_STATUS_FIFO REG(0x40)
#define TX_STATUS_FIFO REG(0x48)
#define ID_REV REG(0x50)
#define INT_EN REG(0x5C)
#define BYTE_TEST REG(0x64)
#define RX_CFG REG(0x6C)
#define TX_CFG REG(0x70)
#define HW_CFG REG(0x74)
#define RX_FIFO_INF REG(0x7C)
#define TX_FIFO_INF REG(0x80)
#define PMT_CTRL REG(0x84)
#define MAC_CSR_CMD REG(0xA4)
#define MAC_CSR_DATA REG(0xA8)

#define BYTE_TEST_VALUE 0x87654321u
#define HW_CFG_SRST 1u
#define HW_CFG_MBO (1u << 20)          /* "must be one" */
#define HW_CFG_TX_FIF_5K (5u << 16)    /* the reset default: 5 KB TX FIFO */
#define PMT_CTRL_READY 1u
#define TX_CFG_TX_ON 2u
#define CSR_BUSY (1u << 31)
#define CSR_READ (1u << 30)

/* MAC control and status registers, behind MAC_CSR_CMD/DATA */
#define MAC_CR 1
#define MAC_ADDRH 2
#define MAC_ADDRL 3
#define MAC_MII_ACC 6
#define MAC_MII_DATA 7
#define MAC_CR_FDPX (1u << 20)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_RXEN (1u << 2)
#define MII_BUSY 1u
#define MII_WRITE 2u
#define PHY_ADDR 1u                     /* the internal PHY */
#define PHY_BMSR 1
#define BMSR_LINK (1u << 2)

/* TX command words */
#define TXA_FIRST_SEG (1u << 13)
#define TXA_LAST_SEG (1u << 12)
/* RX status word */
#define RXS_LEN(s) (((s) >> 16) & 0x3FFFu)   /* bytes with the 4-byte FCS */
#define RXS_ERROR (1u << 15)
#define TXS_ERROR (1u << 15)

#define ETH_MAX_FRAME 1514u              /* without the FCS */
#define SPIN_LIMIT 100000u               /* register waits: a dead controller is an error */

/* "BH" in a locally administered unicast address: the default when the harness gives none */
static const uint8_t mac_addr[6] = {0x02, 0x42, 0x48, 0x00, 0x00, 0x01};
static bool ready;
static uint32_t tx_errors, rx_errors;

static bool wait_clear(volatile uint32_t *reg, uint32_t bits)
{
    for (uint32_t i = 0; i < SPIN_LIMIT; i++)
        if ((*reg & bits) == 0)
            return true;
    return false;
}

static bool mac_write(uint32_t reg, uint32_t val)
{
    if (!wait_clear(&MAC_CSR_CMD, CSR_BUSY))
        return false;
    MAC_CSR_DATA = val;
    MAC_CSR_CMD = CSR_BUSY | reg;
    return wait_clear(&MAC_CSR_CMD, CSR_BUSY);
}

static bool mac_read(uint32_t reg, uint32_t *val)
{
    if (!wait_clear(&MAC_CSR_CMD, CSR_BUSY))
        return false;
    MAC_CSR_CMD = CSR_BUSY | CSR_READ | reg;
    if (!wait_clear(&MAC_CSR_CMD, CSR_BUSY))
        return false;
    *val = MAC_CSR_DATA;
    return true;
}

/* Waits until the MII management interface is not busy (bounded, as every wait here). */
static bool mii_idle(void)
{
    uint32_t acc;
    for (uint32_t i = 0;; i++) {
        if (!mac_read(MAC_MII_ACC, &acc))
            return false;
        if ((acc & MII_BUSY) == 0)
            return true;
        if (i == SPIN_LIMIT)
            return false;
    }
}

static bool phy_read(uint32_t reg, uint32_t *val)
{
    if (!mii_idle() || !mac_write(MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_BUSY) ||
        !mii_idle())
        return false;
    return mac_read(MAC_MII_DATA, val);
}

void port_eth_mac(uint8_t mac[6])
{
    const mps2_boot *b = mps2_boot_params();
    memcpy(mac, b && b->mac_set ? b->mac : mac_addr, 6);
}

int port_eth_init(void)
{
    ready = false;
    if (BYTE_TEST != BYTE_TEST_VALUE) {
        mps2_log("eth: no LAN9118 at 0x%08lx (BYTE_TEST 0x%08lx)", (unsigned long)ETH_BASE,
                 (unsigned long)BYTE_TEST);
        return BH_ERR_IO;
    }
    HW_CFG = HW_CFG_SRST;
    if (!wait_clear(&HW_CFG, HW_CFG_SRST))
        return BH_ERR_IO;
    for (uint32_t i = 0; (PMT_CTRL & PMT_CTRL_READY) == 0; i++)
        if (i == SPIN_LIMIT)
            return BH_ERR_IO;
    HW_CFG = HW_CFG_MBO | HW_CFG_TX_FIF_5K;
    INT_EN = 0;   /* polled */

    uint8_t m[6];
    port_eth_mac(m);
    uint32_t lo = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
                  (uint32_t)m[3] << 24;
    uint32_t hi = (uint32_t)m[4] | (uint32_t)m[5] << 8;
    /* full duplex, no promiscuous mode: our address and broadcast only (the reset value is
     * promiscuous) */
    if (!mac_write(MAC_ADDRL, lo) || !mac_write(MAC_ADDRH, hi) ||
        !mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX))
        return BH_ERR_IO;
    RX_CFG = 0;   /* no offset before the frame: it starts at the first word */
    TX_CFG = TX_CFG_TX_ON;
    ready = true;
    mps2_log("eth: LAN9118 rev 0x%08lx up, MAC %02x:%02x:%02x:%02x:%02x:%02x",
             (unsigned long)ID_REV, m[0], m[1], m[2], m[3], m[4], m[5]);
    return BH_OK;
}

bool port_eth_link(void)
{
    uint32_t bmsr;
    return ready && phy_read(PHY_BMSR, &bmsr) && (bmsr & BMSR_LINK);
}

int port_eth_output(const void *frame, size_t len)
{
    if (!ready)
        return BH_ERR_NOLINK;
    if (!frame || len < 14 || len > ETH_MAX_FRAME)
        return BH_ERR_ARG;
    /* room for the two command words and the data, in bytes (TDFREE) */
    for (uint32_t i = 0; (TX_FIFO_INF & 0xFFFFu) < len + 8; i++)
        if (i == SPIN_LIMIT)
            return BH_ERR_IO;
    TX_DATA_FIFO = TXA_FIRST_SEG | TXA_LAST_SEG | (uint32_t)len;
    TX_DATA_FIFO = (uint32_t)len << 16 | (uint32_t)len;   /* tag: the length, for debugging */
    const uint8_t *p = frame;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t w = 0;
        memcpy(&w, p + i, len - i < 4 ? len - i : 4);   /* the FIFO is little-endian */
        TX_DATA_FIFO = w;
    }
    /* the status of every sent frame waits in a FIFO: take them so it never fills */
    while ((TX_FIFO_INF >> 16) & 0xFFu)
        if (TX_STATUS_FIFO & TXS_ERROR)
            tx_errors++;
    return BH_OK;
}

int port_eth_input(void *buf, size_t cap)
{
    if (!ready)
        return 0;
    while ((RX_FIFO_INF >> 16) & 0xFFu) {
        uint32_t status = RX_STATUS_FIFO;
        uint32_t len = RXS_LEN(status);
        uint32_t words = (len + 3) / 4;
        bool keep = !(status & RXS_ERROR) && len >= 14 + 4 && len - 4 <= cap && buf;
        uint8_t *p = buf;
        for (uint32_t i = 0; i < words; i++) {
            uint32_t w = RX_DATA_FIFO;   /* always read the whole frame out of the FIFO */
            uint32_t at = i * 4;
            if (keep && at < len - 4)
                memcpy(p + at, &w, len - 4 - at < 4 ? len - 4 - at : 4);
        }
        if (keep)
            return (int)(len - 4);
        rx_errors++;   /* a bad or oversized frame: dropped, look at the next one */
    }
    return 0;
}
