use super::*;

fn parse<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// The document's pattern, read back with the same engine, agrees with the check.
fn pattern_of<R: TextRule>() -> Regex {
    let schema = Text::<R>::schema();
    Regex::new(&schema.pattern.expect("a pattern")).unwrap()
}

#[test]
fn names_need_something_besides_spaces_and_at_most_200_characters() {
    assert!(parse::<Text<Name>>(r#""Desk lamp""#).is_ok());
    assert!(parse::<Text<Name>>(&format!("\"{}\"", "é".repeat(200))).is_ok());
    for refused in [r#""""#, r#""   ""#, &format!("\"{}\"", "a".repeat(201))] {
        assert!(parse::<Text<Name>>(refused).is_err(), "{refused}");
    }
    let schema = Text::<Name>::schema();
    assert_eq!((schema.min_length, schema.max_length), (Some(1), Some(200)));
}

#[test]
fn emails_slugs_countries_and_codes_match_their_documented_patterns() {
    let email = pattern_of::<Email>();
    for ok in [
        "ana@example.com",
        " Ana@Example.com ",
        "a.b+c@sub.example.co",
    ] {
        assert!(Email::check(ok).is_ok() && email.is_match(ok), "{ok}");
        assert!(
            commerce_core::account::normalize_email(ok).is_some(),
            "{ok}"
        );
    }
    for bad in [
        "",
        "ana",
        "ana@example",
        "ana@@example.com",
        "a b@example.com",
        "@x.com",
        "ana@.com",
        "ana@example..com",
        "ana@example.com.",
    ] {
        assert!(Email::check(bad).is_err(), "{bad}");
    }
    let slug = pattern_of::<Slug>();
    assert!(slug.is_match("desk-lamp-2") && !slug.is_match("Desk") && !slug.is_match("a--b"));
    assert!(Country::check("us").is_ok() && Country::check("USA").is_err());
    assert!(DiscountCode::check("SUMMER_10").is_ok() && DiscountCode::check("10 %").is_err());
    // Patterns are literals; the lengths inside them are the core's.
    let (code, _) = DiscountCode::pattern().unwrap();
    assert!(code.contains(&format!("{{1,{}}}", limits::MAX_DISCOUNT_CODE_CHARS)));
}

#[test]
fn counts_keep_their_range_and_say_it() {
    assert_eq!(parse::<Quantity>("3").unwrap(), Count(3));
    for refused in ["0", "-1", "1.5", "100001", "\"3\""] {
        let e = parse::<Quantity>(refused).unwrap_err();
        assert!(e.contains("from 1 to 100000"), "{refused}: {e}");
    }
    assert_eq!(parse::<NewQuantity>("0").unwrap(), Count(0));
}

#[test]
fn amount_patterns_follow_the_currency() {
    let usd = in_currency(Some(Currency::USD), || {
        Amount::rule(Some(Currency::USD)).pattern()
    });
    let re = Regex::new(&usd).unwrap();
    for ok in [
        "0",
        "19.99",
        "19.9",
        "999999999999.99",
        "1000000000000",
        "1000000000000.00",
    ] {
        assert!(re.is_match(ok), "{ok}");
    }
    for bad in ["", "05", "19.999", "-1", "1000000000000.01", "1e3", " 5"] {
        assert!(!re.is_match(bad), "{bad}");
    }
    let jpy = Currency::from_code("JPY").unwrap();
    let parsed = in_currency(Some(jpy), || parse::<Amount>(r#""500""#));
    assert_eq!(parsed.unwrap().0, Decimal::from(500));
    assert!(in_currency(Some(jpy), || parse::<Amount>(r#""5.5""#)).is_err());
    assert!(in_currency(Some(jpy), || parse::<Amount>("5.5")).is_err());
    // Above zero: every way of writing nothing is refused, the smallest unit taken.
    let positive = Regex::new(&PositiveAmount::rule(Some(Currency::USD)).pattern()).unwrap();
    for ok in [
        "0.01",
        "0.1",
        "0.10",
        "0.05",
        "1",
        "12.5",
        "1000000000000.00",
    ] {
        assert!(positive.is_match(ok), "{ok}");
        let json = format!("\"{ok}\"");
        assert!(
            in_currency(Some(Currency::USD), || parse::<PositiveAmount>(&json)).is_ok(),
            "{ok}"
        );
    }
    for bad in ["0", "0.0", "0.00", "00.1", "0.001", "-1"] {
        assert!(!positive.is_match(bad), "{bad}");
    }
    assert!(in_currency(Some(Currency::USD), || parse::<PositiveAmount>("0")).is_err());
    assert!(in_currency(Some(Currency::USD), || parse::<PositiveAmount>("0.5")).is_ok());
}

#[test]
fn tax_rates_are_fractions_up_to_one_with_six_decimals() {
    for (json, want) in [
        (r#""0.0825""#, "0.0825"),
        ("0.2", "0.2"),
        (r#""1""#, "1"),
        (r#""1.000""#, "1.000"),
    ] {
        assert_eq!(
            parse::<Fraction>(json).unwrap().0.to_string(),
            want,
            "{json}"
        );
    }
    for refused in [
        r#""1.01""#,
        r#""0.0000001""#,
        "2",
        r#""-0.1""#,
        r#""8.25%""#,
    ] {
        assert!(parse::<Fraction>(refused).is_err(), "{refused}");
    }
}

#[test]
fn price_bounds_in_queries_are_empty_or_decimals() {
    assert_eq!(PriceBound::parse_from_parameter("").unwrap().0, None);
    assert_eq!(
        PriceBound::parse_from_parameter("10.5").unwrap().0,
        Some(Decimal::new(105, 1))
    );
    assert!(PriceBound::parse_from_parameter("N\\").is_err());
    assert!(Regex::new(&PriceBound::pattern()).unwrap().is_match(""));
}

#[test]
fn lists_and_options_keep_their_sizes() {
    assert!(parse::<List<u32, 1, 2>>("[]").is_err());
    assert!(parse::<List<u32, 1, 2>>("[1, 2, 3]").is_err());
    assert_eq!(parse::<List<u32, 1, 2>>("[1]").unwrap().into_vec(), vec![1]);
    assert!(parse::<Options<OptionValue>>(r#"{"size": "M"}"#).is_ok());
    assert!(parse::<Options<OptionValue>>(r#"{" ": "M"}"#).is_err());
    let eleven: String = (0..11)
        .map(|i| format!("\"k{i}\": \"v\""))
        .collect::<Vec<_>>()
        .join(",");
    assert!(parse::<Options<OptionValue>>(&format!("{{{eleven}}}")).is_err());
}
