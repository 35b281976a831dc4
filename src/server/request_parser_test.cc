#include "server/request_parser.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace stox::server {
namespace {

template <class T>
T ok(Parsed<T> p) {
  if (const auto* e = std::get_if<ApiError>(&p)) {
    ADD_FAILURE() << "unexpected error " << e->code << ": " << e->message;
    return T{};
  }
  return std::get<T>(std::move(p));
}

template <class T>
ApiError err(Parsed<T> p) {
  if (std::holds_alternative<T>(p)) {
    ADD_FAILURE() << "parsed, expected an error";
    return ApiError{0, "", ""};
  }
  return std::get<ApiError>(std::move(p));
}

// The error has `code`, status 400 and a message that starts with "field:".
template <class T>
void expect_error(Parsed<T> p, std::string_view code, std::string_view field) {
  const ApiError e = err(std::move(p));
  EXPECT_EQ(e.code, code) << e.message;
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message.rfind(std::string(field) + ":", 0), 0U) << e.message;
}

constexpr InstrumentScales kScales{.id = 7, .price_scale = 2, .quantity_scale = 0, .cash_scale = 4};

NewOrder order(std::string_view body, const InstrumentScales& s = kScales) {
  return ok(to_new_order(ok(parse_order_request(body)), 3, s));
}

// ---------------------------------------------------------------------------
// Orders

TEST(OrderRequest, ParsesEveryField) {
  const OrderRequest r = ok(parse_order_request(
      R"({"symbol":"ACME","side":"SELL","type":"STOP_LIMIT","timeInForce":"DAY","quantity":"10",
          "price":"150.25","stopPrice":151,"displayQuantity":"5","postOnly":true,
          "clientOrderId":"c-1 x","selfTradePrevention":"DECREMENT"})"));
  EXPECT_EQ(r.symbol, "ACME");
  EXPECT_EQ(r.side, Side::kSell);
  EXPECT_EQ(r.type, OrderType::kStopLimit);
  EXPECT_EQ(r.time_in_force, TimeInForce::kDay);
  EXPECT_EQ(r.quantity.text, "10");
  EXPECT_EQ(r.price.text, "150.25");
  EXPECT_EQ(r.stop_price.text, "151");
  EXPECT_EQ(r.display_quantity.text, "5");
  EXPECT_FALSE(r.quote_quantity.present);
  EXPECT_TRUE(r.post_only);
  EXPECT_EQ(r.client_order_id, "c-1 x");
  EXPECT_EQ(r.stp, StpMode::kDecrement);

  const NewOrder o = ok(to_new_order(r, 3, kScales));
  EXPECT_EQ(o.account, 3U);
  EXPECT_EQ(o.instrument, 7U);
  EXPECT_EQ(o.quantity, 10);
  EXPECT_EQ(o.price, 15025);
  EXPECT_EQ(o.stop_price, 15100);
  EXPECT_EQ(o.display_quantity, 5);
  EXPECT_EQ(o.client_order_id.view(), "c-1 x");
  EXPECT_EQ(o.time_in_force, TimeInForce::kDay);
}

TEST(OrderRequest, DefaultsAreGtcForLimitAndStopsAndIocForMarket) {
  const NewOrder limit = order(R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":1,"price":1})");
  EXPECT_EQ(limit.time_in_force, TimeInForce::kGtc);
  EXPECT_EQ(limit.stp, StpMode::kCancelTaker);
  EXPECT_FALSE(limit.post_only);
  EXPECT_TRUE(limit.client_order_id.empty());
  EXPECT_EQ(limit.stop_price, 0);
  EXPECT_EQ(limit.quote_quantity, 0);
  EXPECT_EQ(limit.display_quantity, 0);
  EXPECT_EQ(order(R"({"symbol":"A","side":"BUY","type":"MARKET","quantity":1})").time_in_force,
            TimeInForce::kIoc);
  EXPECT_EQ(order(R"({"symbol":"A","side":"BUY","type":"STOP","quantity":1,"stopPrice":2})")
                .time_in_force,
            TimeInForce::kGtc);
  EXPECT_EQ(order(R"({"symbol":"A","side":"SELL","type":"STOP_LIMIT","quantity":1,"price":1,
                      "stopPrice":2})")
                .time_in_force,
            TimeInForce::kGtc);
}

TEST(OrderRequest, QuoteQuantityIsAtThePriceScale) {
  const NewOrder o = order(R"({"symbol":"A","side":"BUY","type":"MARKET","quoteQuantity":"1000.25"})");
  EXPECT_EQ(o.quote_quantity, 100025);  // price scale 2, not the cash scale 4
  EXPECT_EQ(o.quantity, 0);
  expect_error(to_new_order(ok(parse_order_request(
                                R"({"symbol":"A","side":"BUY","type":"MARKET","quoteQuantity":"1.001"})")),
                            3, kScales),
               "INVALID_FIELD", "quoteQuantity");
}

TEST(OrderRequest, EnumNamesAreExactUpperCase) {
  const auto body = [](std::string_view field, std::string_view value) {
    std::string b = R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":1,)";
    b.append("\"").append(field).append("\":\"").append(value).append("\"}");
    return b;
  };
  EXPECT_EQ(ok(parse_order_request(body("timeInForce", "FOK"))).time_in_force, TimeInForce::kFok);
  EXPECT_EQ(ok(parse_order_request(body("timeInForce", "IOC"))).time_in_force, TimeInForce::kIoc);
  EXPECT_EQ(ok(parse_order_request(body("selfTradePrevention", "CANCEL_MAKER"))).stp,
            StpMode::kCancelMaker);
  EXPECT_EQ(ok(parse_order_request(body("selfTradePrevention", "CANCEL_BOTH"))).stp, StpMode::kCancelBoth);
  expect_error(parse_order_request(body("timeInForce", "gtc")), "INVALID_FIELD", "timeInForce");
  expect_error(parse_order_request(body("selfTradePrevention", "CANCEL_NEWEST")), "INVALID_FIELD",
               "selfTradePrevention");
  expect_error(parse_order_request(R"({"symbol":"A","side":"buy","type":"LIMIT","quantity":1})"),
               "INVALID_FIELD", "side");
  expect_error(parse_order_request(R"({"symbol":"A","side":"BUY","type":"Limit","quantity":1})"),
               "INVALID_FIELD", "type");
}

TEST(OrderRequest, UnknownFieldIsRejectedNamingIt) {
  const ApiError e = err(parse_order_request(
      R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":1,"price":1,"postonly":true})"));
  EXPECT_EQ(e.code, "UNKNOWN_FIELD");
  EXPECT_EQ(e.message.rfind("postonly:", 0), 0U) << e.message;
  EXPECT_NE(e.message.find("postOnly"), std::string::npos) << "lists the known fields: " << e.message;
}

TEST(OrderRequest, DuplicateKeyIsRejectedEvenWhenEscaped) {
  expect_error(parse_order_request(R"({"symbol":"A","symbol":"B","side":"BUY","type":"LIMIT","quantity":1})"),
               "DUPLICATE_FIELD", "symbol");
  expect_error(parse_order_request(R"({"symbol":"A","sym\u0062ol":"B","side":"BUY","type":"LIMIT","quantity":1})"),
               "DUPLICATE_FIELD", "symbol");
}

TEST(OrderRequest, WrongTypesNameTheFieldAndTheExpectedType) {
  const std::string head = R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":1,)";
  const auto check = [&](std::string_view member, std::string_view field, std::string_view expected) {
    const ApiError e = err(parse_order_request(head + std::string(member) + "}"));
    EXPECT_EQ(e.code, "INVALID_FIELD") << member;
    EXPECT_EQ(e.message.rfind(std::string(field) + ":", 0), 0U) << e.message;
    EXPECT_NE(e.message.find(expected), std::string::npos) << e.message;
  };
  check(R"("postOnly":"true")", "postOnly", "true or false");
  check(R"("postOnly":1)", "postOnly", "true or false");
  check(R"("price":true)", "price", "decimal");
  check(R"("price":null)", "price", "decimal");
  check(R"("price":["1"])", "price", "decimal");
  check(R"("timeInForce":2)", "timeInForce", "string");
  check(R"("clientOrderId":12)", "clientOrderId", "string");
  check(R"("clientOrderId":"12345678901234567")", "clientOrderId", "printable ASCII");
  check(R"("clientOrderId":"")", "clientOrderId", "printable ASCII");
  check(R"("clientOrderId":"a\u0001")", "clientOrderId", "printable ASCII");
  check(R"("clientOrderId":"caf\u00e9")", "clientOrderId", "printable ASCII");
  expect_error(parse_order_request(R"({"symbol":"acme","side":"BUY","type":"LIMIT","quantity":1})"),
               "INVALID_FIELD", "symbol");
  expect_error(parse_order_request(R"({"symbol":"ABCDEFGHIJKLMNOPQ","side":"BUY","type":"LIMIT","quantity":1})"),
               "INVALID_FIELD", "symbol");
  expect_error(parse_order_request(R"({"symbol":"","side":"BUY","type":"LIMIT","quantity":1})"),
               "INVALID_FIELD", "symbol");
  EXPECT_EQ(ok(parse_order_request(R"({"symbol":"BRK.B-1_X","side":"BUY","type":"LIMIT","quantity":1})")).symbol,
            "BRK.B-1_X");
}

TEST(OrderRequest, MissingRequiredFieldsAreNamed) {
  expect_error(parse_order_request(R"({"side":"BUY","type":"LIMIT","quantity":1})"), "MISSING_FIELD", "symbol");
  expect_error(parse_order_request(R"({"symbol":"A","type":"LIMIT","quantity":1})"), "MISSING_FIELD", "side");
  expect_error(parse_order_request(R"({"symbol":"A","side":"BUY","quantity":1})"), "MISSING_FIELD", "type");
  expect_error(parse_order_request(R"({"symbol":"A","side":"BUY","type":"LIMIT"})"), "MISSING_FIELD", "quantity");
  expect_error(parse_order_request(R"({})"), "MISSING_FIELD", "symbol");
  expect_error(parse_order_request(
                   R"({"symbol":"A","side":"BUY","type":"MARKET","quantity":1,"quoteQuantity":"5"})"),
               "INVALID_FIELD", "quoteQuantity");
}

TEST(OrderRequest, MalformedDocumentsAreInvalidJson) {
  const std::vector<std::string> bodies = {
      "",
      "not json",
      R"({"symbol":"A","side":"BUY")",                      // truncated
      R"({"symbol":"A)",                                    // unclosed string
      "{\"symbol\":\"A\xff\",\"side\":\"BUY\"}",            // invalid UTF-8
      R"({"symbol":"A"} {"side":"BUY"})",                   // two documents
      R"({"symbol":"A",})",                                 // trailing comma
      R"({"symbol" "A"})",                                  // missing colon
      R"({"symbol":"A","x":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]})",  // too deep
      R"({"symbol":"\q"})",                                 // bad escape
  };
  for (const std::string& body : bodies) {
    const ApiError e = err(parse_order_request(body));
    EXPECT_EQ(e.code, "INVALID_JSON") << body << " -> " << e.message;
    EXPECT_EQ(e.status, 400);
    EXPECT_FALSE(e.message.empty());
  }
  const ApiError deep = err(parse_order_request(std::string(20, '[') + std::string(20, ']')));
  EXPECT_NE(deep.message.find("deep"), std::string::npos) << deep.message;
}

TEST(OrderRequest, BodyMustBeAnObject) {
  for (const char* body : {"[]", "1", "\"x\"", "null", "true"}) {
    const ApiError e = err(parse_order_request(body));
    EXPECT_EQ(e.code, "INVALID_JSON") << body;
    EXPECT_NE(e.message.find("object"), std::string::npos) << e.message;
  }
}

TEST(OrderRequest, OversizedBodyIsRefusedBeforeParsing) {
  std::string body = R"({"symbol":"A","x":")" + std::string(kMaxJsonBytes, 'a') + "\"}";
  const ApiError e = err(parse_order_request(body));
  EXPECT_EQ(e.status, 413);
  EXPECT_EQ(e.code, "BODY_TOO_LARGE");
}

TEST(OrderRequest, HugeNumbersAreOutOfRangeNeverADifferentValue) {
  const std::string head = R"({"symbol":"A","side":"BUY","type":"LIMIT","price":"1","quantity":)";
  const ApiError big = err(parse_order_request(head + "99999999999999999999999}"));
  EXPECT_EQ(big.code, "INVALID_FIELD");
  EXPECT_EQ(big.message, "quantity: out of range");
  EXPECT_EQ(err(parse_order_request(head + "\"99999999999999999999999\"}")).message, "quantity: out of range");
  EXPECT_EQ(err(parse_order_request(head + "-99999999999999999999999}")).message, "quantity: out of range");

  for (const char* exp : {"1e400", "1E5", "1.5e-3", "\"1e5\"", "-1e400"}) {
    const ApiError e = err(parse_order_request(head + exp + "}"));
    EXPECT_EQ(e.code, "INVALID_FIELD") << exp;
    EXPECT_EQ(e.message.rfind("quantity:", 0), 0U) << e.message;
    EXPECT_NE(e.message.find("plain decimal notation"), std::string::npos) << e.message;
  }
  // Fits the syntax check, overflows only at the instrument's scale.
  const ApiError scaled = err(to_new_order(ok(parse_order_request(head + "92233720368547759}")), 1,
                                           InstrumentScales{1, 2, 2, 4}));
  EXPECT_EQ(scaled.message, "quantity: out of range");
}

TEST(OrderRequest, MalformedNumberTokensNameTheField) {
  const std::string head = R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":)";
  for (const char* n : {"007", "-01.5", "1.", "-"}) {
    const ApiError e = err(parse_order_request(head + n + "}"));
    EXPECT_EQ(e.code, "INVALID_FIELD") << n << " -> " << e.message;
    EXPECT_EQ(e.message.rfind("quantity:", 0), 0U) << e.message;
  }
  // A leading zero in a string follows decimal.h, which accepts it.
  EXPECT_EQ(order(head + "\"007\"}").quantity, 7);
  for (const char* s : {R"("")", R"(" 1")", R"("1.")", R"(".5")", R"("+1")", R"("1,000")", R"("0x10")",
                        R"("inf")", R"("NaN")"}) {
    expect_error(parse_order_request(head + s + "}"), "INVALID_FIELD", "quantity");
  }
  // A bad number outside any known member still cannot pass.
  EXPECT_EQ(err(parse_order_request(R"({"symbol":"A","extra":1e400})")).code, "UNKNOWN_FIELD");
}

TEST(OrderRequest, StringAndNumberDecimalsGiveIdenticalResults) {
  const std::vector<std::string> texts = {"150.25", "150.2", "150", "0.01",   "0.5",  "150.255", "-1",
                                          "0",      "-0",    "0.00", "92233720368547758.07",
                                          "92233720368547758.08", "9223372036854775807",
                                          "1.000000000000000000000000001", "12345678901234567890"};
  for (const std::string& t : texts) {
    const std::string head = R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":1,"price":)";
    const Parsed<OrderRequest> as_string = parse_order_request(std::string(head).append("\"").append(t).append("\"}"));
    const Parsed<OrderRequest> as_number = parse_order_request(std::string(head).append(t).append("}"));
    ASSERT_EQ(as_string.index(), as_number.index()) << t;
    if (const auto* e = std::get_if<ApiError>(&as_string)) {
      EXPECT_EQ(e->message, std::get<ApiError>(as_number).message) << t;
      continue;
    }
    const Parsed<NewOrder> s = to_new_order(std::get<OrderRequest>(as_string), 1, kScales);
    const Parsed<NewOrder> n = to_new_order(std::get<OrderRequest>(as_number), 1, kScales);
    ASSERT_EQ(s.index(), n.index()) << t;
    if (const auto* e = std::get_if<ApiError>(&s)) {
      EXPECT_EQ(e->message, std::get<ApiError>(n).message) << t;
      EXPECT_EQ(e->message.rfind("price:", 0), 0U) << e->message;
    } else {
      EXPECT_EQ(std::get<NewOrder>(s).price, std::get<NewOrder>(n).price) << t;
    }
  }
  // The raw token ends before the whitespace that follows it.
  EXPECT_EQ(order("{\"symbol\":\"A\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"quantity\":1 ,\"price\":150.2 \n\t}").price,
            15020);
}

TEST(OrderRequest, ScaleErrorsNameTheField) {
  const auto convert = [](std::string_view members) {
    return to_new_order(ok(parse_order_request(R"({"symbol":"A","side":"BUY","type":"LIMIT",)" +
                                               std::string(members) + "}")),
                        1, kScales);
  };
  EXPECT_EQ(err(convert(R"("quantity":1,"price":"150.255")")).message, "price: more than 2 decimals");
  EXPECT_EQ(err(convert(R"("quantity":1.5,"price":"1")")).message, "quantity: more than 0 decimals");
  EXPECT_EQ(err(convert(R"("quantity":1,"price":"92233720368547758.08")")).message, "price: out of range");
  EXPECT_EQ(err(convert(R"("quantity":1,"price":"-1")")).message, "price: must not be negative");
  EXPECT_EQ(err(convert(R"("quantity":1,"price":"0.00")")).message, "price: must be greater than zero");
  EXPECT_EQ(err(convert(R"("quantity":0,"price":"1")")).message, "quantity: must be greater than zero");
  EXPECT_EQ(err(convert(R"("quantity":1,"price":"1","stopPrice":"0")")).message,
            "stopPrice: must be greater than zero");
  EXPECT_EQ(err(convert(R"("quantity":2,"price":"1","displayQuantity":"1.5")")).message,
            "displayQuantity: more than 0 decimals");
  const ApiError bad_scale = err(to_new_order(
      ok(parse_order_request(R"({"symbol":"A","side":"BUY","type":"LIMIT","quantity":1,"price":1})")), 1,
      InstrumentScales{1, 12, 0, 4}));
  EXPECT_EQ(bad_scale.status, 500);
}

TEST(ToScaled, AbsentIsZeroAndNegativeOnlyWhenAllowed) {
  EXPECT_EQ(ok(to_scaled(DecimalField{}, "x", 4)), 0);
  EXPECT_EQ(ok(to_scaled(DecimalField{true, "-1.5"}, "fee", 2, true)), -150);
  EXPECT_EQ(err(to_scaled(DecimalField{true, "-1.5"}, "fee", 2)).message, "fee: must not be negative");
  EXPECT_EQ(err(to_scaled(DecimalField{true, "1e5"}, "fee", 2)).code, "INVALID_FIELD");
}

// ---------------------------------------------------------------------------
// Replace

TEST(ReplaceRequest, ParsesAndConvertsWithAbsentFieldsUnchanged) {
  const Replace r = ok(to_replace(ok(parse_replace_request(R"({"price":"151.5"})")), 4, 99, kScales));
  EXPECT_EQ(r.account, 4U);
  EXPECT_EQ(r.order_id, 99U);
  EXPECT_EQ(r.price, 15150);
  EXPECT_EQ(r.quantity, 0);
  EXPECT_EQ(r.stop_price, 0);
  const Replace q = ok(to_replace(ok(parse_replace_request(R"({"quantity":20,"stopPrice":150})")), 4, 1,
                                  kScales));
  EXPECT_EQ(q.quantity, 20);
  EXPECT_EQ(q.stop_price, 15000);
}

TEST(ReplaceRequest, NeedsAtLeastOneFieldAndRejectsUnknownOnes) {
  expect_error(parse_replace_request("{}"), "MISSING_FIELD", "quantity");
  expect_error(parse_replace_request(R"({"qty":1})"), "UNKNOWN_FIELD", "qty");
  expect_error(parse_replace_request(R"({"price":1,"price":2})"), "DUPLICATE_FIELD", "price");
  expect_error(to_replace(ok(parse_replace_request(R"({"price":"0"})")), 1, 1, kScales), "INVALID_FIELD",
               "price");
  EXPECT_EQ(err(parse_replace_request("[1]")).code, "INVALID_JSON");
}

// ---------------------------------------------------------------------------
// Instruments

TEST(InstrumentRequest, ScalesDefaultToTheDecimalsOfTickAndLot) {
  const AddInstrument a = ok(to_add_instrument(ok(parse_instrument_request(
      R"({"symbol":"ACME","tickSize":"0.010","lotSize":"0.5","referencePrice":150,
          "makerFeeBps":-2,"takerFeeBps":10})"))));
  EXPECT_EQ(a.symbol.view(), "ACME");
  EXPECT_EQ(a.price_scale, 3);
  EXPECT_EQ(a.quantity_scale, 1);
  EXPECT_EQ(a.tick_size, 10);
  EXPECT_EQ(a.lot_size, 5);
  EXPECT_EQ(a.reference_price, 150000);
  EXPECT_EQ(a.maker_fee_bps, -2);
  EXPECT_EQ(a.taker_fee_bps, 10);
  EXPECT_EQ(a.market_band_bps, 0);
}

TEST(InstrumentRequest, ExplicitScalesAndBand) {
  const AddInstrument a = ok(to_add_instrument(ok(parse_instrument_request(
      R"({"symbol":"X","tickSize":"0.05","lotSize":"10","referencePrice":"100.5","priceScale":4,
          "quantityScale":0,"marketBandBps":250})"))));
  EXPECT_EQ(a.price_scale, 4);
  EXPECT_EQ(a.tick_size, 500);
  EXPECT_EQ(a.reference_price, 1005000);
  EXPECT_EQ(a.lot_size, 10);
  EXPECT_EQ(a.market_band_bps, 250);
  const ApiError e = err(to_add_instrument(ok(parse_instrument_request(
      R"({"symbol":"X","tickSize":"0.001","lotSize":"1","referencePrice":"1","priceScale":2})"))));
  EXPECT_EQ(e.message, "tickSize: more than 2 decimals");
  EXPECT_EQ(err(to_add_instrument(ok(parse_instrument_request(
                    R"({"symbol":"X","tickSize":"0.0000000001","lotSize":"1","referencePrice":"1"})"))))
                .message,
            "tickSize: more than 9 decimals");
}

TEST(InstrumentRequest, IntegerFieldsMustBeJsonIntegersInRange) {
  const std::string head = R"({"symbol":"X","tickSize":"1","lotSize":"1","referencePrice":"1",)";
  for (const char* member : {R"("takerFeeBps":-1)", R"("takerFeeBps":10001)", R"("takerFeeBps":"10")",
                             R"("takerFeeBps":1.5)", R"("takerFeeBps":1.0)", R"("takerFeeBps":1e2)",
                             R"("takerFeeBps":99999999999999999999999)"}) {
    expect_error(parse_instrument_request(head + member + "}"), "INVALID_FIELD", "takerFeeBps");
  }
  expect_error(parse_instrument_request(head + R"("makerFeeBps":-10001})"), "INVALID_FIELD", "makerFeeBps");
  expect_error(parse_instrument_request(head + R"("priceScale":10})"), "INVALID_FIELD", "priceScale");
  expect_error(parse_instrument_request(head + R"("quantityScale":-1})"), "INVALID_FIELD", "quantityScale");
  expect_error(parse_instrument_request(head + R"("marketBandBps":0})"), "INVALID_FIELD", "marketBandBps");
  expect_error(to_add_instrument(ok(parse_instrument_request(head + R"("makerFeeBps":-5,"takerFeeBps":4})"))),
               "INVALID_FIELD", "makerFeeBps");
  EXPECT_EQ(ok(parse_instrument_request(head + R"("takerFeeBps":10000})")).taker_fee_bps, 10000);
}

TEST(InstrumentRequest, MissingAndNonPositiveFields) {
  expect_error(parse_instrument_request(R"({"tickSize":"1","lotSize":"1","referencePrice":"1"})"),
               "MISSING_FIELD", "symbol");
  expect_error(parse_instrument_request(R"({"symbol":"X","lotSize":"1","referencePrice":"1"})"),
               "MISSING_FIELD", "tickSize");
  expect_error(parse_instrument_request(R"({"symbol":"X","tickSize":"1","referencePrice":"1"})"),
               "MISSING_FIELD", "lotSize");
  expect_error(parse_instrument_request(R"({"symbol":"X","tickSize":"1","lotSize":"1"})"), "MISSING_FIELD",
               "referencePrice");
  expect_error(to_add_instrument(ok(parse_instrument_request(
                   R"({"symbol":"X","tickSize":"0","lotSize":"1","referencePrice":"1"})"))),
               "INVALID_FIELD", "tickSize");
}

// ---------------------------------------------------------------------------
// Accounts, transfers, kill switch

TEST(AccountRequest, EmptyBodyMeansNoLabel) {
  EXPECT_EQ(ok(parse_account_request("")).label, "");
  EXPECT_EQ(ok(parse_account_request("{}")).label, "");
  EXPECT_EQ(ok(parse_account_request(R"({"label":"desk 1"})")).label, "desk 1");
  const CreateAccount c = to_create_account(ok(parse_account_request(R"({"label":"desk 1"})")));
  EXPECT_EQ(c.label.view(), "desk 1");
  EXPECT_EQ(c.type, AccountType::kCash);
  expect_error(parse_account_request(R"({"label":"12345678901234567"})"), "INVALID_FIELD", "label");
  expect_error(parse_account_request(R"({"label":"a\tb"})"), "INVALID_FIELD", "label");
  expect_error(parse_account_request(R"({"label":7})"), "INVALID_FIELD", "label");
  expect_error(parse_account_request(R"({"name":"x"})"), "UNKNOWN_FIELD", "name");
  EXPECT_EQ(err(parse_account_request(" ")).code, "INVALID_JSON");
}

TEST(TransferRequest, ParsesAndScales) {
  const TransferRequest r = ok(parse_transfer_request(R"({"accountId":12,"asset":"USD","amount":"1000.50"})"));
  EXPECT_EQ(r.account, 12U);
  EXPECT_EQ(r.asset, "USD");
  const Transfer t = ok(to_transfer(r, kCashAsset, 4));
  EXPECT_EQ(t.account, 12U);
  EXPECT_EQ(t.asset, kCashAsset);
  EXPECT_EQ(t.amount, 10005000);
  EXPECT_EQ(err(to_transfer(r, kCashAsset, 1)).message, "amount: more than 1 decimals");
  expect_error(to_transfer(ok(parse_transfer_request(R"({"accountId":1,"asset":"A","amount":0})")), 2, 0),
               "INVALID_FIELD", "amount");
}

TEST(TransferRequest, AccountIdIsAJsonIntegerOfAUserAccount) {
  const auto body = [](std::string_view id) {
    return R"({"accountId":)" + std::string(id) + R"(,"asset":"USD","amount":"1"})";
  };
  EXPECT_EQ(ok(parse_transfer_request(body("4294967293"))).account, 4294967293U);
  for (const char* id : {"0", "-1", "4294967294", "4294967295", "1.5", "\"1\"", "true", "1e3",
                         "99999999999999999999999"}) {
    expect_error(parse_transfer_request(body(id)), "INVALID_FIELD", "accountId");
  }
  expect_error(parse_transfer_request(R"({"asset":"USD","amount":"1"})"), "MISSING_FIELD", "accountId");
  expect_error(parse_transfer_request(R"({"accountId":1,"amount":"1"})"), "MISSING_FIELD", "asset");
  expect_error(parse_transfer_request(R"({"accountId":1,"asset":"USD"})"), "MISSING_FIELD", "amount");
  expect_error(parse_transfer_request(R"({"accountId":1,"asset":"usd","amount":"1"})"), "INVALID_FIELD", "asset");
}

TEST(KillSwitchRequest, NeedsAJsonBoolean) {
  EXPECT_TRUE(ok(parse_kill_switch_request(R"({"enabled":true})")).enabled);
  EXPECT_FALSE(ok(parse_kill_switch_request(R"({"enabled":false})")).enabled);
  expect_error(parse_kill_switch_request(R"({"enabled":1})"), "INVALID_FIELD", "enabled");
  expect_error(parse_kill_switch_request(R"({"enabled":"true"})"), "INVALID_FIELD", "enabled");
  expect_error(parse_kill_switch_request("{}"), "MISSING_FIELD", "enabled");
  expect_error(parse_kill_switch_request(R"({"enabled":true,"on":true})"), "UNKNOWN_FIELD", "on");
}

TEST(AccountLimitsRequest, EveryFieldIsOptionalAndRangeChecked) {
  const AccountLimitsRequest all = ok(parse_account_limits_request(
      R"({"maxOpenOrders":10,"maxOrdersPerSecond":200,"maxOrderNotional":"2500.5"})"));
  EXPECT_EQ(all.max_open_orders, 10U);
  EXPECT_EQ(all.max_orders_per_second, 200U);
  EXPECT_EQ(all.max_order_notional.text, "2500.5");
  const AccountLimitsRequest none = ok(parse_account_limits_request("{}"));
  EXPECT_EQ(none.max_open_orders, 0U);
  EXPECT_FALSE(none.max_order_notional.present);
  expect_error(parse_account_limits_request(R"({"maxOpenOrders":-1})"), "INVALID_FIELD",
               "maxOpenOrders");
  expect_error(parse_account_limits_request(R"({"maxOrdersPerSecond":1.5})"), "INVALID_FIELD",
               "maxOrdersPerSecond");
  expect_error(parse_account_limits_request(R"({"maxOrderQuantity":1})"), "UNKNOWN_FIELD",
               "maxOrderQuantity");
  EXPECT_EQ(err(parse_account_limits_request("")).code, "INVALID_JSON");
}

TEST(InstrumentLimitsRequest, EveryFieldIsOptionalAndRangeChecked) {
  const InstrumentLimitsRequest all = ok(parse_instrument_limits_request(
      R"({"collarBps":250,"breakerBps":500,"maxOrderQuantity":"10","maxOrderNotional":"1000.25","breakerHaltSeconds":120})"));
  EXPECT_EQ(all.collar_bps, 250);
  EXPECT_EQ(all.breaker_bps, 500);
  EXPECT_EQ(all.max_order_quantity.text, "10");
  EXPECT_EQ(all.max_order_notional.text, "1000.25");
  EXPECT_EQ(all.breaker_halt_seconds, 120);
  const InstrumentLimitsRequest none = ok(parse_instrument_limits_request("{}"));
  EXPECT_EQ(none.collar_bps, 0);
  EXPECT_FALSE(none.max_order_quantity.present);
  EXPECT_EQ(none.breaker_halt_seconds, 0);
  expect_error(parse_instrument_limits_request(R"({"collarBps":-1})"), "INVALID_FIELD", "collarBps");
  expect_error(parse_instrument_limits_request(R"({"breakerBps":10001})"), "INVALID_FIELD",
               "breakerBps");
  expect_error(parse_instrument_limits_request(R"({"breakerHaltSeconds":604801})"), "INVALID_FIELD",
               "breakerHaltSeconds");
  expect_error(parse_instrument_limits_request(R"({"maxOrderQuantity":true})"), "INVALID_FIELD",
               "maxOrderQuantity");
  expect_error(parse_instrument_limits_request(R"({"maxOpenOrders":1})"), "UNKNOWN_FIELD",
               "maxOpenOrders");
  EXPECT_EQ(err(parse_instrument_limits_request("[1]")).code, "INVALID_JSON");
}

// ---------------------------------------------------------------------------
// WebSocket

TEST(WsRequest, SubscribeWithSymbolsAndDepth) {
  const WsRequest r = ok(parse_ws_request(
      R"({"action":"subscribe","channel":"depth","symbols":["ACME","XYZ"],"depth":50})"));
  EXPECT_EQ(r.action, WsAction::kSubscribe);
  EXPECT_EQ(r.channel, WsChannel::kDepth);
  EXPECT_EQ(r.symbols, (std::vector<std::string>{"ACME", "XYZ"}));
  EXPECT_EQ(r.depth, 50);
  EXPECT_EQ(ok(parse_ws_request(R"({"action":"unsubscribe","channel":"depth","symbols":["A"]})")).depth,
            kDefaultWsDepth);
  EXPECT_EQ(ok(parse_ws_request(R"({"action":"unsubscribe","channel":"trades","symbols":["A"]})")).action,
            WsAction::kUnsubscribe);
}

TEST(WsRequest, OrdersChannelNeedsNoSymbols) {
  const WsRequest r = ok(parse_ws_request(R"({"action":"subscribe","channel":"orders"})"));
  EXPECT_EQ(r.channel, WsChannel::kOrders);
  EXPECT_TRUE(r.symbols.empty());
  EXPECT_EQ(ok(parse_ws_request(R"({"action":"subscribe","channel":"orders","symbols":["A"]})")).symbols.size(),
            1U);
}

TEST(WsRequest, Errors) {
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"quotes"})"), "MISSING_FIELD", "symbols");
  expect_error(parse_ws_request(R"({"channel":"quotes","symbols":["A"]})"), "MISSING_FIELD", "action");
  expect_error(parse_ws_request(R"({"action":"subscribe","symbols":["A"]})"), "MISSING_FIELD", "channel");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"quotes","symbols":[]})"), "INVALID_FIELD",
               "symbols");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"quotes","symbols":["A","A"]})"),
               "INVALID_FIELD", "symbols");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"quotes","symbols":["a"]})"),
               "INVALID_FIELD", "symbols");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"quotes","symbols":[1]})"),
               "INVALID_FIELD", "symbols");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"quotes","symbols":"A"})"),
               "INVALID_FIELD", "symbols");
  expect_error(parse_ws_request(R"({"action":"SUBSCRIBE","channel":"quotes","symbols":["A"]})"),
               "INVALID_FIELD", "action");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"candles","symbols":["A"]})"),
               "INVALID_FIELD", "channel");
  for (const char* depth : {"0", "51", "10.5", "\"10\""}) {
    expect_error(parse_ws_request(R"({"action":"subscribe","channel":"depth","symbols":["A"],"depth":)" +
                                  std::string(depth) + "}"),
                 "INVALID_FIELD", "depth");
  }
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"trades","symbols":["A"],"depth":5})"),
               "INVALID_FIELD", "depth");
  expect_error(parse_ws_request(R"({"action":"subscribe","channel":"trades","symbols":["A"],"x":1})"),
               "UNKNOWN_FIELD", "x");
  EXPECT_EQ(err(parse_ws_request("subscribe quotes")).code, "INVALID_JSON");
}

TEST(WsRequest, SymbolCountIsLimited) {
  const auto body = [](std::size_t n) {
    std::string b = R"({"action":"subscribe","channel":"quotes","symbols":[)";
    for (std::size_t i = 0; i < n; ++i) b += (i ? ",\"S" : "\"S") + std::to_string(i) + "\"";
    return b + "]}";
  };
  EXPECT_EQ(ok(parse_ws_request(body(kMaxWsSymbols))).symbols.size(), kMaxWsSymbols);
  expect_error(parse_ws_request(body(kMaxWsSymbols + 1)), "INVALID_FIELD", "symbols");
}

TEST(WsChannelNames, AreTheWireNames) {
  EXPECT_EQ(to_string(WsChannel::kQuotes), "quotes");
  EXPECT_EQ(to_string(WsChannel::kTrades), "trades");
  EXPECT_EQ(to_string(WsChannel::kDepth), "depth");
  EXPECT_EQ(to_string(WsChannel::kOrders), "orders");
  EXPECT_EQ(to_string(WsAction::kUnsubscribe), "unsubscribe");
}

// ---------------------------------------------------------------------------
// Query strings

TEST(Query, DecodesPercentEscapesAndPlus) {
  const QueryParams q = ok(parse_query("symbol=AC%4de&limit=10&note=a+b%2Bc&flag&empty="));
  EXPECT_EQ(q.size(), 5U);
  EXPECT_EQ(q.get("symbol"), "ACMe");
  EXPECT_EQ(q.get("limit"), "10");
  EXPECT_EQ(q.get("note"), "a b+c");
  EXPECT_EQ(q.get("flag"), "");
  EXPECT_EQ(q.get("empty"), "");
  EXPECT_FALSE(q.get("missing").has_value());
  EXPECT_EQ(ok(parse_query("a%3Db=c%26d")).get("a=b"), "c&d");
  EXPECT_EQ(ok(parse_query("a=b=c")).get("a"), "b=c");
  EXPECT_TRUE(ok(parse_query("")).empty());
}

TEST(Query, RejectsDuplicatesBadEscapesAndTooManyParameters) {
  expect_error(parse_query("limit=1&limit=2"), "DUPLICATE_PARAMETER", "limit");
  expect_error(parse_query("limit=1&li%6Dit=2"), "DUPLICATE_PARAMETER", "limit");
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "a=%4g", "%=1", "a=%00", "a=%FF", "a=%7F", "a=\x01",
                          "a=caf\xc3\xa9", "=1", "a=1&", "&a=1", "a=1&&b=2"}) {
    EXPECT_EQ(err(parse_query(bad)).code, "INVALID_QUERY") << bad;
  }
  std::string many;
  for (std::size_t i = 0; i < kMaxQueryParams; ++i) many += (i ? "&p" : "p") + std::to_string(i) + "=1";
  EXPECT_EQ(ok(parse_query(many)).size(), kMaxQueryParams);
  EXPECT_EQ(err(parse_query(many + "&x=1")).code, "INVALID_QUERY");
}

TEST(Query, OnlyNamesTheFirstUnknownParameter) {
  const QueryParams q = ok(parse_query("depth=5&lmit=3"));
  EXPECT_FALSE(q.only({"depth", "lmit"}).has_value());
  const std::optional<ApiError> e = q.only({"depth", "limit"});
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "UNKNOWN_PARAMETER");
  EXPECT_EQ(e->message.rfind("lmit:", 0), 0U) << e->message;
}

TEST(ParseUint, StrictDecimalInRange) {
  EXPECT_EQ(ok(parse_uint("0", "n", 0, 10)), 0U);
  EXPECT_EQ(ok(parse_uint("10", "n", 0, 10)), 10U);
  EXPECT_EQ(ok(parse_uint("18446744073709551615", "id", 1, UINT64_MAX)), UINT64_MAX);
  for (const char* bad : {"", "11", "007", "-1", "+1", " 1", "1 ", "1.0", "1e1", "0x1", "١"}) {
    expect_error(parse_uint(bad, "limit", 0, 10), "INVALID_PARAMETER", "limit");
  }
  expect_error(parse_uint("18446744073709551616", "id", 1, UINT64_MAX), "INVALID_PARAMETER", "id");
  expect_error(parse_uint("0", "id", 1, 5), "INVALID_PARAMETER", "id");
  EXPECT_NE(err(parse_uint("99", "depth", 1, 50)).message.find("[1, 50]"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Engine rejects

TEST(EngineReject, EveryReasonMapsToAClientErrorStatus) {
  const std::set<int> allowed = {400, 404, 409, 422, 429};
  int reasons = 0;
  for (int v = 1; v < 5000; ++v) {
    const auto r = static_cast<RejectReason>(v);
    if (to_string(r) == "UNKNOWN_REASON") continue;  // not an enumerator
    ++reasons;
    EXPECT_TRUE(allowed.count(http_status(r))) << to_string(r) << " -> " << http_status(r);
    const ApiError e = engine_reject(r);
    EXPECT_EQ(e.status, http_status(r));
    EXPECT_EQ(e.code, to_string(r));
    EXPECT_FALSE(e.message.empty()) << to_string(r);
  }
  EXPECT_GE(reasons, 43);  // every enumerator of reason.h (43 today) was visited
  EXPECT_EQ(http_status(RejectReason::kNone), 500);
}

TEST(EngineReject, StatusFollowsTheKindOfRule) {
  EXPECT_EQ(http_status(RejectReason::kPriceOffTick), 400);
  EXPECT_EQ(http_status(RejectReason::kInvalidTimeInForce), 400);
  EXPECT_EQ(http_status(RejectReason::kUnknownOrder), 404);
  EXPECT_EQ(http_status(RejectReason::kUnknownAccount), 404);
  EXPECT_EQ(http_status(RejectReason::kDuplicateClientOrderId), 409);
  EXPECT_EQ(http_status(RejectReason::kDuplicateSymbol), 409);
  EXPECT_EQ(http_status(RejectReason::kRateLimited), 429);
  for (RejectReason r : {RejectReason::kInstrumentHalted, RejectReason::kInstrumentClosed,
                         RejectReason::kInsufficientFunds, RejectReason::kInsufficientShares,
                         RejectReason::kPriceOutsideCollar, RejectReason::kOrderQuantityTooLarge,
                         RejectReason::kAccountDisabled, RejectReason::kPostOnlyWouldTake,
                         RejectReason::kStopWouldTriggerImmediately, RejectReason::kInsufficientAvailable,
                         RejectReason::kTooManyOpenOrders}) {
    EXPECT_EQ(http_status(r), 422) << to_string(r);
  }
}

// ---------------------------------------------------------------------------
// error_json

TEST(ErrorJson, IsValidJsonEvenForHostileFieldNames) {
  const ApiError e = err(parse_order_request(R"({"\u0000\"caf\u00e9\n":1})"));
  EXPECT_EQ(e.code, "UNKNOWN_FIELD");
  const std::string text = error_json(e);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << text;
  std::string_view code;
  std::string_view message;
  ASSERT_EQ(root["code"].get(code), simdjson::SUCCESS);
  ASSERT_EQ(root["message"].get(message), simdjson::SUCCESS);
  EXPECT_EQ(code, "UNKNOWN_FIELD");
  EXPECT_EQ(message, e.message);
  EXPECT_EQ(message.rfind("?\"caf???:", 0), 0U) << message;
}

}  // namespace
}  // namespace stox::server
