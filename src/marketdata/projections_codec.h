// The projections codec: the whole state of a Projections as bytes, so that a
// restart restores the read models from a snapshot's extension section
// (docs/snapshot-format.md) instead of replaying the journal a second time.
//
// Layout, version 1. Integers in the header are little-endian; integrity is
// the container's job (the snapshot file has a CRC), this format only has to
// be unambiguous and safe to decode.
//
//   offset  size  field
//        0     8  magic            "STOXPROJ"
//        8     4  version          u32 = 1
//       12     4  reserved         u32 = 0
//       16     8  instruments_len  u64, bytes of the instruments section
//       24     8  orders_len       u64, bytes of the orders section
//       32     8  book_len         u64, bytes of the book section
//       40     8  tape_len         u64, bytes of the tape section
//       48     -  the four sections in that order, nothing after them
//
// Inside the sections:
//   uv      unsigned LEB128 varint, minimal (no trailing 0x80/0x00 groups);
//           up to 10 bytes for 64 bits, 19 for the 128-bit filled_value
//   sv      signed value as uv of its zigzag form ((v << 1) ^ (v >> 63))
//   u8      one byte; enums are their numeric value and must be in range
//   text    u8 n (0..16), then the first n bytes of the 16-byte field; the
//           rest is NUL; byte n-1 is not NUL (canonical)
//   fill    uv trade_id, uv order_id, uv account, uv instrument, u8 side,
//           sv price, sv quantity, sv fee, u8 liquidity, sv time
//
//   instruments  uv count; per instrument (id = index + 1): text symbol,
//                sv tick_size, sv lot_size, sv reference_price,
//                sv market_band_bps, sv maker_fee_bps, sv taker_fee_bps,
//                u8 price_scale (0..9), u8 quantity_scale (0..9), u8 status
//   orders       uv open_count, open orders by ascending (account, id);
//                uv closed_count, closed orders oldest-closed first (the
//                eviction order), each followed by sv closed_at;
//                uv account_count, accounts by ascending id, each
//                uv account, uv n (>= 1), n fills oldest first.
//                An order: uv id (>= 1), uv account, uv instrument,
//                text client_order_id, u8 side, u8 type, u8 time_in_force,
//                u8 flags (bit 0 post_only, bit 1 triggered), u8 status (open
//                ones NEW/PARTIALLY_FILLED/PENDING_TRIGGER, closed ones
//                FILLED/CANCELLED), u8 cancel_reason (0 or a CancelReason),
//                uv fill_count, sv price, sv stop_price, sv quantity,
//                sv quote_quantity, sv display_quantity, sv leaves, sv filled,
//                sv fees, 128-bit sv filled_value, sv created_at,
//                sv (updated_at - created_at) (mod 2^64), uv n, n fills
//                oldest first. reject_reason is not stored: tracked orders
//                were accepted, it is always NONE.
//   book         uv count (= instruments); per instrument: uv sequence,
//                sv time, u8 has_last_trade (0/1) and if 1 uv trade_id,
//                sv price, sv quantity, sv time; then bids and asks, each
//                uv n and n levels by strictly ascending price: sv price,
//                sv quantity, uv count (>= 1).
//   tape         uv count (= instruments); per instrument: sv last,
//                sv last_time, day (sv open, sv high, sv low, sv volume,
//                uv trades), uv n recent trades oldest first (uv trade_id,
//                uv instrument, sv price, sv quantity, u8 aggressor,
//                sv time), then for 1m, 5m, 1h, 1d: uv n candles oldest
//                first (sv open_time, sv open, sv high, sv low, sv close,
//                sv volume, uv trades).
//
// What is state. Everything that changes a later output or query is encoded:
// every tracked order and its retained fills, the close order and close
// times of closed orders (eviction), each account's fill ring, depth levels,
// depth sequence numbers and times, last trades, recent trades, candles and
// day statistics. What lives only within one batch is not (updates(),
// rejects(), quote_changes(), batch_trades(), open-batch bookkeeping): a
// decoded Projections starts between batches with those empty. Indexes that
// follow from the state (symbol lookup, open orders by account) are rebuilt.
//
// Canonical: equal states give equal bytes (hash maps are written in key
// order or in an order the state defines), and the decoder accepts only the
// canonical form, so decode then encode gives back the same bytes.
//
// The configuration is not encoded: the decoder builds with the caller's
// ProjectionsConfig. Where the bytes hold more than that config keeps (fills
// per order or account, recent trades, candles), the most recent are kept;
// closed orders beyond max_closed_orders go at the end of the next batch, as
// they would had the config changed then.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "marketdata/projections.h"

namespace stox::marketdata {

inline constexpr std::string_view kProjectionsMagic = "STOXPROJ";
inline constexpr std::uint32_t kProjectionsVersion = 1;
inline constexpr std::size_t kProjectionsHeaderSize = 48;

// Appends the canonical encoding of p to *out.
// REQUIRES: between batches (no batch of p's components is open).
void encode_projections(const Projections& p, std::string* out);

// Restores the state encoded in `bytes` into *out, built with `config`. On
// damaged or unknown bytes returns a Corruption saying what is wrong and
// leaves *out unchanged. Never reads outside `bytes`, whatever they hold.
Status decode_projections(std::string_view bytes, const ProjectionsConfig& config,
                          Projections* out);

}  // namespace stox::marketdata
