// Why a command was rejected, or why an order was cancelled. Business
// outcomes are values, never exceptions.
//
// RejectReason is one enum for the whole exchange with a numeric range per
// module, so a code seen in a log or an API response names its module:
//   1000-1999  core engine: validation of commands and orders
//   2000-2999  pre-trade risk (accounts issue)
//   3000-3999  accounts and ledger (accounts issue)
//   4000-4999  gateways (server issue)
#pragma once

#include <cstdint>
#include <string_view>

namespace stox {

enum class RejectReason : std::uint16_t {
  kNone = 0,

  // --- core engine: 1000-1999 ---
  kUnknownSymbol = 1000,
  kInstrumentHalted = 1001,
  kInstrumentClosed = 1002,
  kInvalidSide = 1003,
  kInvalidOrderType = 1004,
  kInvalidTimeInForce = 1005,         // unknown value, or not allowed for the order type
  kInvalidStpMode = 1006,
  kPostOnlyNotAllowed = 1007,         // post-only only on LIMIT DAY/GTC
  kMissingPrice = 1008,
  kUnexpectedPrice = 1009,
  kMissingStopPrice = 1010,
  kUnexpectedStopPrice = 1011,
  kPriceNotPositive = 1012,
  kPriceOffTick = 1013,
  kQuantityNotPositive = 1014,
  kQuantityOffLot = 1015,
  kQuoteQuantityNotAllowed = 1016,    // only MARKET BUY IOC, without DECREMENT
  kInvalidDisplayQuantity = 1017,
  kValueOverflow = 1018,              // price x quantity does not fit in 64 bits
  kDuplicateClientOrderId = 1019,
  kStopWouldTriggerImmediately = 1020,
  kUnknownOrder = 1021,               // also another account's order
  kQuantityNotAboveFilled = 1022,     // replace to a total at or below the filled quantity
  kPostOnlyWouldTake = 1023,          // replace of a post-only order to a crossing price
  kDuplicateSymbol = 1024,
  kInvalidInstrument = 1025,          // bad AddInstrument fields
  kInvalidStatus = 1026,
  kUnknownAccount = 1027,
  kInvalidCommand = 1028,             // unknown command type

  // --- pre-trade risk: 2000-2999 ---
  kInsufficientFunds = 2000,          // cash available below what the order must hold
  kInsufficientShares = 2001,         // shares available below the sell quantity (no shorting)
  kOrderQuantityTooLarge = 2002,
  kOrderNotionalTooLarge = 2003,
  kPriceOutsideCollar = 2004,
  kTooManyOpenOrders = 2005,
  kRateLimited = 2006,
  kAccountDisabled = 2007,            // kill switch on
  kInvalidLimits = 2008,

  // --- accounts and ledger: 3000-3999 ---
  kUnsupportedAccountType = 3000,
  kInvalidAsset = 3001,
  kInvalidAmount = 3002,
  kInsufficientAvailable = 3003,      // withdrawal beyond available
  kBalanceOverflow = 3004,
};

enum class CancelReason : std::uint8_t {
  kUser = 1,
  kIocRemainder = 2,        // IOC (or triggered IOC) remainder
  kMarketRemainder = 3,     // market order: book or protection band exhausted after trading
  kMarketNoLiquidity = 4,   // market order: nothing tradable at all
  kQuoteTooSmall = 5,       // quote-quantity market buy could not afford one lot
  kFokNotFillable = 6,
  kPostOnlyWouldTake = 7,
  kSelfTrade = 8,
  kExpired = 9,             // DAY order at EndOfDay
  kMassCancel = 10,
  kKillSwitch = 11,
  kCircuitBreaker = 12,     // a trade would have printed outside the breaker band
  kInsufficientFunds = 13,  // a stop-market buy that cannot cover its band price when triggered
};

std::string_view to_string(RejectReason r);
std::string_view to_string(CancelReason r);

}  // namespace stox
