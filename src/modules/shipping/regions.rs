//! The mainland's provinces and prefecture-level cities (GB/T 2260 codes),
//! from a table compiled into the binary (`regions.tsv`, its source in its
//! header): no network look-up, and the same answer on every instance.
//!
//! A region is named by its 6-digit code (`320000`, `320100`), its full
//! name (`江苏省`, `南京市`) or its short name (`江苏`, `南京`: the name
//! without 省/市/自治区/地区/盟 and the like). Where a short name means both a
//! province and a city (`吉林`), it means the province; the city is
//! `吉林市` or `220200`.
use std::{collections::HashMap, sync::LazyLock};

/// One division of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub code: &'static str,
    pub name: &'static str,
}

impl Region {
    /// A province (its code ends in 0000).
    pub fn is_province(&self) -> bool {
        self.code.ends_with("0000")
    }

    /// The code of the province a division belongs to (itself for a province).
    pub fn province_code(&self) -> String {
        format!("{}0000", &self.code[..2])
    }
}

struct Table {
    by_code: HashMap<&'static str, Region>,
    /// Full and short names of provinces.
    provinces: HashMap<&'static str, Region>,
    /// Full and short names of cities, by province code.
    cities: HashMap<String, HashMap<&'static str, Region>>,
    /// Full and short names of cities, store-wide: a short name shared by
    /// two cities of different provinces is left out (none is, today).
    all_cities: HashMap<&'static str, Region>,
    ordered: Vec<Region>,
}

const SUFFIXES: &[&str] = &[
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "省",
    "市",
    "地区",
    "盟",
];

/// The name without its administrative suffix (`广西壮族自治区` → `广西`);
/// the name itself when it has none or nothing would be left.
fn short(name: &str) -> &str {
    for s in SUFFIXES {
        if let Some(rest) = name.strip_suffix(s)
            && rest.chars().count() >= 2
        {
            return rest;
        }
    }
    name
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut t = Table {
        by_code: HashMap::new(),
        provinces: HashMap::new(),
        cities: HashMap::new(),
        all_cities: HashMap::new(),
        ordered: Vec::new(),
    };
    let mut ambiguous = Vec::new();
    for line in include_str!("regions.tsv").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((code, name)) = line.split_once('\t') else {
            continue;
        };
        let r = Region { code, name };
        t.by_code.insert(code, r);
        t.ordered.push(r);
        if r.is_province() {
            t.provinces.insert(name, r);
            t.provinces.insert(short(name), r);
        } else {
            let of_province = t.cities.entry(r.province_code()).or_default();
            of_province.insert(name, r);
            of_province.insert(short(name), r);
            for key in [name, short(name)] {
                if t.all_cities.insert(key, r).is_some_and(|old| old != r) {
                    ambiguous.push(key);
                }
            }
        }
    }
    for key in ambiguous {
        t.all_cities.remove(key);
    }
    t
});

/// The division with this code.
pub fn by_code(code: &str) -> Option<Region> {
    TABLE.by_code.get(code).copied()
}

/// A province or city by code, full name or short name (a province first
/// where a short name means both). Surrounding spaces are ignored.
pub fn find(name_or_code: &str) -> Option<Region> {
    let s = name_or_code.trim();
    by_code(s)
        .or_else(|| TABLE.provinces.get(s).copied())
        .or_else(|| TABLE.all_cities.get(s).copied())
}

/// Where an address is: its province, and its city when the table lists
/// it under that province (municipalities list none: 北京市 is the
/// province). `None` when the province is not one of the mainland's.
pub fn locate(province: &str, city: &str) -> Option<(Region, Option<Region>)> {
    let p = TABLE
        .provinces
        .get(province.trim())
        .copied()
        .or_else(|| by_code(province.trim()).filter(Region::is_province))?;
    let c = TABLE
        .cities
        .get(&p.province_code())
        .and_then(|m| m.get(city.trim()).copied());
    Some((p, c))
}

/// Every division, provinces each followed by their cities.
pub fn all() -> &'static [Region] {
    &TABLE.ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_the_mainland() {
        let provinces = all().iter().filter(|r| r.is_province()).count();
        assert_eq!(
            provinces, 31,
            "22 provinces, 5 autonomous regions, 4 municipalities"
        );
        assert!(all().len() > 330);
        for r in all() {
            assert_eq!(r.code.len(), 6, "{r:?}");
            assert!(
                by_code(&r.province_code()).is_some(),
                "{r:?} has its province"
            );
        }
    }

    #[test]
    fn names_codes_and_short_names_find_the_same_division() {
        for q in ["江苏省", "江苏", "320000", " 江苏 "] {
            assert_eq!(find(q).map(|r| r.code), Some("320000"), "{q}");
        }
        for q in ["南京市", "南京", "320100"] {
            assert_eq!(find(q).map(|r| r.code), Some("320100"), "{q}");
        }
        assert_eq!(find("新疆").map(|r| r.code), Some("650000"));
        assert_eq!(find("广西").map(|r| r.code), Some("450000"));
        assert_eq!(find("内蒙古").map(|r| r.code), Some("150000"));
        assert_eq!(
            find("吉林").map(|r| r.code),
            Some("220000"),
            "the province first"
        );
        assert_eq!(find("吉林市").map(|r| r.code), Some("220200"));
        assert_eq!(find("延边朝鲜族自治州").map(|r| r.code), Some("222400"));
        assert_eq!(find("仙桃市").map(|r| r.code), Some("429004"));
        assert_eq!(find("火星"), None);
        assert_eq!(find("999999"), None);
        assert_eq!(find("香港特别行政区"), None, "mainland only");
    }

    #[test]
    fn addresses_are_located_by_province_then_city() {
        let (p, c) = locate("浙江省", "杭州市").unwrap();
        assert_eq!((p.code, c.map(|c| c.code)), ("330000", Some("330100")));
        let (p, c) = locate("北京市", "北京市").unwrap();
        assert_eq!(
            (p.code, c),
            ("110000", None),
            "a municipality has no city level"
        );
        let (p, c) = locate("浙江", "南京市").unwrap();
        assert_eq!(
            (p.code, c),
            ("330000", None),
            "a city of another province is not taken"
        );
        assert!(locate("p", "c").is_none());
    }
}
