//! English number spelling for `--spell_numbers`: `42` → `forty two`, `1,200` → `one thousand
//! two hundred`, `3rd` → `third`, `2.5` → `two point five`. Numbers of a quadrillion or more are
//! left as digits (and so skip their row).

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 4] = [
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// Replaces every number in `text` by its English words, surrounded by spaces.
pub fn spell_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // Digits, with `,` thousands separators (a comma followed by exactly three digits).
        let start = i;
        let mut digits = String::new();
        while i < chars.len() {
            if chars[i].is_ascii_digit() {
                digits.push(chars[i]);
                i += 1;
            } else if chars[i] == ','
                && chars
                    .get(i + 1..i + 4)
                    .is_some_and(|g| g.iter().all(char::is_ascii_digit))
                && !chars.get(i + 4).is_some_and(char::is_ascii_digit)
            {
                i += 1;
            } else {
                break;
            }
        }
        let Ok(value) = digits.parse::<u64>() else {
            out.extend(&chars[start..i]);
            continue;
        };
        if value >= 1_000_000_000_000_000 {
            out.extend(&chars[start..i]);
            continue;
        }
        let suffix: String = chars[i..].iter().take(2).collect();
        let is_ordinal = matches!(suffix.as_str(), "st" | "nd" | "rd" | "th")
            && !chars.get(i + 2).is_some_and(|c| c.is_alphanumeric());
        let mut words = cardinal(value);
        if is_ordinal {
            words = ordinal(&words);
            i += 2;
        } else if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            words.push_str(" point");
            i += 1;
            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                words.push(' ');
                words.push_str(ONES[d as usize]);
                i += 1;
            }
        }
        out.push(' ');
        out.push_str(&words);
        out.push(' ');
    }
    out
}

/// The English words of `n` (`1201` → `one thousand two hundred one`).
pub fn cardinal(n: u64) -> String {
    if n < 1000 {
        return below_thousand(n);
    }
    let mut rest = n;
    let mut parts = Vec::new();
    for (scale, name) in SCALES {
        if rest >= scale {
            parts.push(format!("{} {name}", cardinal(rest / scale)));
            rest %= scale;
        }
    }
    if rest > 0 {
        parts.push(below_thousand(rest));
    }
    parts.join(" ")
}

fn below_thousand(n: u64) -> String {
    match n {
        0..20 => ONES[n as usize].to_owned(),
        20..100 if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_owned(),
        20..100 => format!("{} {}", TENS[(n / 10) as usize], ONES[(n % 10) as usize]),
        _ if n.is_multiple_of(100) => format!("{} hundred", ONES[(n / 100) as usize]),
        _ => format!(
            "{} hundred {}",
            ONES[(n / 100) as usize],
            below_thousand(n % 100)
        ),
    }
}

/// The ordinal of spelled cardinal words (`twenty one` → `twenty first`).
fn ordinal(words: &str) -> String {
    let (head, last) = match words.rsplit_once(' ') {
        Some((head, last)) => (format!("{head} "), last),
        None => (String::new(), words),
    };
    let last = match last {
        "one" => "first".to_owned(),
        "two" => "second".to_owned(),
        "three" => "third".to_owned(),
        "five" => "fifth".to_owned(),
        "eight" => "eighth".to_owned(),
        "nine" => "ninth".to_owned(),
        "twelve" => "twelfth".to_owned(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        assert_eq!(cardinal(0), "zero");
        assert_eq!(cardinal(13), "thirteen");
        assert_eq!(cardinal(40), "forty");
        assert_eq!(cardinal(99), "ninety nine");
        assert_eq!(cardinal(300), "three hundred");
        assert_eq!(cardinal(1201), "one thousand two hundred one");
        assert_eq!(cardinal(2_000_019_000), "two billion nineteen thousand");
    }

    #[test]
    fn numbers_in_text() {
        assert_eq!(
            spell_numbers("a 1,200 b")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            "a one thousand two hundred b"
        );
        assert_eq!(
            spell_numbers("the 21st and 12th")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            "the twenty first and twelfth"
        );
        assert_eq!(
            spell_numbers("2.05, 20th")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            "two point zero five , twentieth"
        );
        assert_eq!(
            spell_numbers("1,2")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            "one , two"
        );
    }
}
