#include "common/reason.h"

namespace stox {

std::string_view to_string(RejectReason r) {
  switch (r) {
    case RejectReason::kNone: return "NONE";
    case RejectReason::kUnknownSymbol: return "UNKNOWN_SYMBOL";
    case RejectReason::kInstrumentHalted: return "INSTRUMENT_HALTED";
    case RejectReason::kInstrumentClosed: return "INSTRUMENT_CLOSED";
    case RejectReason::kInvalidSide: return "INVALID_SIDE";
    case RejectReason::kInvalidOrderType: return "INVALID_ORDER_TYPE";
    case RejectReason::kInvalidTimeInForce: return "INVALID_TIME_IN_FORCE";
    case RejectReason::kInvalidStpMode: return "INVALID_STP_MODE";
    case RejectReason::kPostOnlyNotAllowed: return "POST_ONLY_NOT_ALLOWED";
    case RejectReason::kMissingPrice: return "MISSING_PRICE";
    case RejectReason::kUnexpectedPrice: return "UNEXPECTED_PRICE";
    case RejectReason::kMissingStopPrice: return "MISSING_STOP_PRICE";
    case RejectReason::kUnexpectedStopPrice: return "UNEXPECTED_STOP_PRICE";
    case RejectReason::kPriceNotPositive: return "PRICE_NOT_POSITIVE";
    case RejectReason::kPriceOffTick: return "PRICE_OFF_TICK";
    case RejectReason::kQuantityNotPositive: return "QUANTITY_NOT_POSITIVE";
    case RejectReason::kQuantityOffLot: return "QUANTITY_OFF_LOT";
    case RejectReason::kQuoteQuantityNotAllowed: return "QUOTE_QUANTITY_NOT_ALLOWED";
    case RejectReason::kInvalidDisplayQuantity: return "INVALID_DISPLAY_QUANTITY";
    case RejectReason::kValueOverflow: return "VALUE_OVERFLOW";
    case RejectReason::kDuplicateClientOrderId: return "DUPLICATE_CLIENT_ORDER_ID";
    case RejectReason::kStopWouldTriggerImmediately: return "STOP_WOULD_TRIGGER_IMMEDIATELY";
    case RejectReason::kUnknownOrder: return "UNKNOWN_ORDER";
    case RejectReason::kQuantityNotAboveFilled: return "QUANTITY_NOT_ABOVE_FILLED";
    case RejectReason::kPostOnlyWouldTake: return "POST_ONLY_WOULD_TAKE";
    case RejectReason::kDuplicateSymbol: return "DUPLICATE_SYMBOL";
    case RejectReason::kInvalidInstrument: return "INVALID_INSTRUMENT";
    case RejectReason::kInvalidStatus: return "INVALID_STATUS";
    case RejectReason::kUnknownAccount: return "UNKNOWN_ACCOUNT";
    case RejectReason::kInvalidCommand: return "INVALID_COMMAND";
    case RejectReason::kInsufficientFunds: return "INSUFFICIENT_FUNDS";
    case RejectReason::kInsufficientShares: return "INSUFFICIENT_SHARES";
    case RejectReason::kOrderQuantityTooLarge: return "ORDER_QUANTITY_TOO_LARGE";
    case RejectReason::kOrderNotionalTooLarge: return "ORDER_NOTIONAL_TOO_LARGE";
    case RejectReason::kPriceOutsideCollar: return "PRICE_OUTSIDE_COLLAR";
    case RejectReason::kTooManyOpenOrders: return "TOO_MANY_OPEN_ORDERS";
    case RejectReason::kRateLimited: return "RATE_LIMITED";
    case RejectReason::kAccountDisabled: return "ACCOUNT_DISABLED";
    case RejectReason::kInvalidLimits: return "INVALID_LIMITS";
    case RejectReason::kUnsupportedAccountType: return "UNSUPPORTED_ACCOUNT_TYPE";
    case RejectReason::kInvalidAsset: return "INVALID_ASSET";
    case RejectReason::kInvalidAmount: return "INVALID_AMOUNT";
    case RejectReason::kInsufficientAvailable: return "INSUFFICIENT_AVAILABLE";
    case RejectReason::kBalanceOverflow: return "BALANCE_OVERFLOW";
  }
  return "UNKNOWN_REASON";
}

std::string_view to_string(CancelReason r) {
  switch (r) {
    case CancelReason::kUser: return "USER";
    case CancelReason::kIocRemainder: return "IOC_REMAINDER";
    case CancelReason::kMarketRemainder: return "MARKET_REMAINDER";
    case CancelReason::kMarketNoLiquidity: return "MARKET_NO_LIQUIDITY";
    case CancelReason::kQuoteTooSmall: return "QUOTE_TOO_SMALL";
    case CancelReason::kFokNotFillable: return "FOK_NOT_FILLABLE";
    case CancelReason::kPostOnlyWouldTake: return "POST_ONLY_WOULD_TAKE";
    case CancelReason::kSelfTrade: return "SELF_TRADE";
    case CancelReason::kExpired: return "EXPIRED";
    case CancelReason::kMassCancel: return "MASS_CANCEL";
    case CancelReason::kKillSwitch: return "KILL_SWITCH";
    case CancelReason::kCircuitBreaker: return "CIRCUIT_BREAKER";
    case CancelReason::kInsufficientFunds: return "INSUFFICIENT_FUNDS";
  }
  return "UNKNOWN_REASON";
}

}  // namespace stox
