//! The geohash arithmetic of Redis 7.0.15 (`geohash.c`, `geohash_helper.c`, the search of
//! `geo.c`), written again in Rust step by step so that every double comes out bit for bit as
//! Redis computes it: the cell a point is stored in, the cell centre GEOPOS answers, the
//! nine cells a search walks (and in which order, which COUNT ANY's early stop shows), the
//! haversine distance.
//!
//! A geo set is a sorted set whose scores are 52-bit geohashes: 26 bits of latitude and 26 of
//! longitude interleaved (latitude on the even bits), over latitudes -85.05112878..85.05112878
//! and longitudes -180..180.

use bytes::Bytes;

use crate::zset::ZSet;

/// Redis's `GEO_STEP_MAX`: 26 bits a coordinate, 52 in all.
pub const STEP_MAX: u8 = 26;
/// `GEO_LAT_MIN`, `GEO_LAT_MAX`, `GEO_LONG_MIN`, `GEO_LONG_MAX`.
pub const LAT_MIN: f64 = -85.05112878;
/// See [`LAT_MIN`].
pub const LAT_MAX: f64 = 85.05112878;
/// See [`LAT_MIN`].
pub const LONG_MIN: f64 = -180.0;
/// See [`LAT_MIN`].
pub const LONG_MAX: f64 = 180.0;

/// `D_R`: degrees to radians, `M_PI / 180.0`.
const D_R: f64 = std::f64::consts::PI / 180.0;
/// `EARTH_RADIUS_IN_METERS`.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// `MERCATOR_MAX`.
const MERCATOR_MAX: f64 = 20037726.37;

/// A range of one coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The low end.
    pub min: f64,
    /// The high end.
    pub max: f64,
}

/// The ranges of the stored hashes (`geohashGetCoordRange`).
pub const LONG_RANGE: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
/// See [`LONG_RANGE`].
pub const LAT_RANGE: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// A hash of `step` bits a coordinate (`GeoHashBits`); bits 0 and step 0 is "no cell".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bits {
    /// The interleaved bits.
    pub bits: u64,
    /// Bits a coordinate.
    pub step: u8,
}

impl Bits {
    fn is_zero(self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash shifted to 52 bits (`geohashAlign52Bits`).
    pub fn align52(self) -> u64 {
        self.bits << 52u32.saturating_sub(u32::from(self.step) * 2)
    }
}

/// The cell a hash names (`GeoHashArea`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    /// Its longitudes.
    pub longitude: Range,
    /// Its latitudes.
    pub latitude: Range,
}

fn interleave64(xlo: u32, ylo: u32) -> u64 {
    const B: [u64; 5] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
    ];
    const S: [u32; 5] = [1, 2, 4, 8, 16];
    let mut x = u64::from(xlo);
    let mut y = u64::from(ylo);
    for i in (0..5).rev() {
        x = (x | (x << S[i])) & B[i];
        y = (y | (y << S[i])) & B[i];
    }
    x | (y << 1)
}

fn deinterleave64(interleaved: u64) -> u64 {
    const B: [u64; 6] = [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ];
    const S: [u32; 6] = [0, 1, 2, 4, 8, 16];
    let mut x = interleaved;
    let mut y = interleaved >> 1;
    for i in 0..6 {
        x = (x | (x >> S[i])) & B[i];
        y = (y | (y >> S[i])) & B[i];
    }
    x | (y << 32)
}

/// `geohashEncode`: the cell of `step` bits holding the point, or `None` outside the ranges.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<Bits> {
    if step > 32 || step == 0 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(Bits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// `geohashEncodeWGS84` at full precision, aligned: the score a point is stored with.
pub fn score_of(longitude: f64, latitude: f64) -> Option<u64> {
    encode(LONG_RANGE, LAT_RANGE, longitude, latitude, STEP_MAX).map(Bits::align52)
}

/// `geohashDecode`: the cell a hash names (`None` for the zero hash).
pub fn decode(long_range: Range, lat_range: Range, hash: Bits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let separated = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = separated as u32;
    let ilono = (separated >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (f64::from(ilato) / cells) * lat_scale,
            max: lat_range.min + (f64::from(ilato.wrapping_add(1)) / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (f64::from(ilono) / cells) * long_scale,
            max: long_range.min + (f64::from(ilono.wrapping_add(1)) / cells) * long_scale,
        },
    })
}

/// C's `(uint64_t)` of a double as x86-64 code computes it (`cvttsd2si`, with values of
/// 2^63 and more shifted first), for scores that were not written by GEOADD.
pub fn c_u64(x: f64) -> u64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    let truncate = |v: f64| {
        if (-TWO63..TWO63).contains(&v) {
            v as i64 as u64
        } else {
            1u64 << 63
        }
    };
    if x < TWO63 {
        truncate(x)
    } else {
        truncate(x - TWO63) ^ (1u64 << 63)
    }
}

/// C's `(long long)` of a double on x86-64: out of range (or NaN) is `LLONG_MIN`.
pub fn c_i64(x: f64) -> i64 {
    const TWO63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO63..TWO63).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// `decodeGeohash`: the centre of the full-precision cell a score names, as (longitude,
/// latitude), clamped to the ranges.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = Bits {
        bits: c_u64(score),
        step: STEP_MAX,
    };
    let Some(area) = decode(LONG_RANGE, LAT_RANGE, hash) else {
        return [0.0, 0.0];
    };
    let longitude = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let latitude = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [longitude, latitude]
}

/// The GEOHASH string of a score: the point re-encoded over the standard ranges (latitudes
/// -90..90), 52 bits in ten base-32 characters and an eleventh that is always `0`.
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let [longitude, latitude] = decode_score(score);
    let standard = encode(
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
        longitude,
        latitude,
        26,
    )
    .unwrap_or_default();
    let mut out = [b'0'; 11];
    for (i, slot) in out.iter_mut().enumerate().take(10) {
        let index = (standard.bits >> (52 - (i as u32 + 1) * 5)) & 0x1f;
        *slot = ALPHABET[index as usize];
    }
    out
}

fn move_x(hash: &mut Bits, d: i8) {
    if d == 0 || !(1..=32).contains(&hash.step) {
        return;
    }
    let mut x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let y = hash.bits & 0x5555555555555555;
    let zz = 0x5555555555555555u64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaaaaaaaaaaaaaa >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut Bits, d: i8) {
    if d == 0 || !(1..=32).contains(&hash.step) {
        return;
    }
    let x = hash.bits & 0xaaaaaaaaaaaaaaaa;
    let mut y = hash.bits & 0x5555555555555555;
    let zz = 0xaaaaaaaaaaaaaaaau64 >> (64 - u32::from(hash.step) * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555555555555555 >> (64 - u32::from(hash.step) * 2);
    hash.bits = x | y;
}

fn neighbor(hash: Bits, dx: i8, dy: i8) -> Bits {
    let mut moved = hash;
    move_x(&mut moved, dx);
    move_y(&mut moved, dy);
    moved
}

/// `geohashGetLatDistance`.
fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * ((lat2 * D_R) - (lat1 * D_R)).abs()
}

/// `geohashGetDistance`: the haversine distance in meters.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = lon1 * D_R;
    let lon2r = lon2 * D_R;
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = lat1 * D_R;
    let lat2r = lat2 * D_R;
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// What a search covers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extent {
    /// BYRADIUS (and GEORADIUS): a radius, in the unit.
    Radius(f64),
    /// BYBOX: width and height, in the unit.
    Box {
        /// East to west.
        width: f64,
        /// North to south.
        height: f64,
    },
}

/// A search area (`GeoShape`): the centre, the extent and the unit's size in meters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Longitude, latitude of the centre.
    pub xy: [f64; 2],
    /// The extent, in the unit.
    pub extent: Extent,
    /// Meters in one unit.
    pub conversion: f64,
}

impl Shape {
    /// `geohashBoundingBox`: min longitude, min latitude, max longitude, max latitude.
    fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.extent {
            Extent::Radius(r) => (self.conversion * r, self.conversion * r),
            Extent::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R;
        let long_delta_top =
            (width / EARTH_RADIUS_IN_METERS / ((latitude + lat_delta) * D_R).cos()) / D_R;
        let long_delta_bottom =
            (width / EARTH_RADIUS_IN_METERS / ((latitude - lat_delta) * D_R).cos()) / D_R;
        let southern = latitude < 0.0;
        [
            if southern {
                longitude - long_delta_bottom
            } else {
                longitude - long_delta_top
            },
            latitude - lat_delta,
            if southern {
                longitude + long_delta_bottom
            } else {
                longitude + long_delta_top
            },
            latitude + lat_delta,
        ]
    }

    /// The nine cells to walk (`geohashCalculateAreasByShapeWGS84`), in `membersOfAllNeighbors`'s
    /// order: the centre, north, south, east, west, north-east, north-west, south-east,
    /// south-west; the zero hash for a cell left out.
    pub fn cells(&self) -> [Bits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let [longitude, latitude] = self.xy;
        let radius_meters = match self.extent {
            Extent::Radius(r) => r,
            Extent::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        } * self.conversion;
        let mut steps = estimate_steps(radius_meters, latitude);
        let at = |steps: u8| {
            let hash =
                encode(LONG_RANGE, LAT_RANGE, longitude, latitude, steps).unwrap_or_default();
            let around = |dx, dy| neighbor(hash, dx, dy);
            // north, south, east, west, north-east, north-west, south-east, south-west
            let n = [
                around(0, 1),
                around(0, -1),
                around(1, 0),
                around(-1, 0),
                around(1, 1),
                around(-1, 1),
                around(1, -1),
                around(-1, -1),
            ];
            (hash, n)
        };
        let (mut hash, mut n) = at(steps);
        let area_of = |h: Bits| decode(LONG_RANGE, LAT_RANGE, h);
        let decrease = {
            let lat_max = |h| area_of(h).map_or(0.0, |a: Area| a.latitude.max);
            let lat_min = |h| area_of(h).map_or(0.0, |a: Area| a.latitude.min);
            let lon_max = |h| area_of(h).map_or(0.0, |a: Area| a.longitude.max);
            let lon_min = |h| area_of(h).map_or(0.0, |a: Area| a.longitude.min);
            lat_max(n[0]) < max_lat
                || lat_min(n[1]) > min_lat
                || lon_max(n[2]) < max_lon
                || lon_min(n[3]) > min_lon
        };
        if steps > 1 && decrease {
            steps -= 1;
            (hash, n) = at(steps);
        }
        if steps >= 2 {
            if let Some(area) = area_of(hash) {
                let zero = Bits::default();
                if area.latitude.min < min_lat {
                    for i in [1, 7, 6] {
                        n[i] = zero; // south, south-west, south-east
                    }
                }
                if area.latitude.max > max_lat {
                    for i in [0, 4, 5] {
                        n[i] = zero; // north, north-east, north-west
                    }
                }
                if area.longitude.min < min_lon {
                    for i in [3, 7, 5] {
                        n[i] = zero; // west, south-west, north-west
                    }
                }
                if area.longitude.max > max_lon {
                    for i in [2, 6, 4] {
                        n[i] = zero; // east, south-east, north-east
                    }
                }
            }
        }
        [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
    }

    /// `geoWithinShape`: the distance (meters) from the centre to the point stored as `score`
    /// and the point (the centre of its cell), when the point is inside.
    fn contains(&self, score: f64) -> Option<(f64, [f64; 2])> {
        let xy = decode_score(score);
        let [x1, y1] = self.xy;
        let [x2, y2] = xy;
        match self.extent {
            Extent::Radius(r) => {
                let d = distance(x1, y1, x2, y2);
                (d <= r * self.conversion).then_some((d, xy))
            }
            Extent::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                if lat_distance(y2, y1) > height_m / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > width_m / 2.0 {
                    return None;
                }
                Some((distance(x1, y1, x2, y2), xy))
            }
        }
    }
}

/// `geohashEstimateStepsByRadius`.
fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    // A NaN or infinite range never doubles past the limit: cap the loop.
    while range < MERCATOR_MAX && step < 2000 {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// One point a search found (`geoPoint`).
#[derive(Debug, Clone)]
pub struct Point {
    /// The member.
    pub member: Bytes,
    /// Its score (its 52-bit hash).
    pub score: f64,
    /// Distance from the centre, in meters (then in the unit).
    pub dist: f64,
    /// The centre of its cell: longitude, latitude.
    pub xy: [f64; 2],
}

/// `membersOfAllNeighbors`: the points inside `shape`, cell after cell, stopping once `limit`
/// (COUNT ANY; 0: none) were found.
pub fn search(set: &ZSet, shape: &Shape, limit: usize) -> Vec<Point> {
    let cells = shape.cells();
    let mut found = Vec::new();
    let mut last: Option<usize> = None;
    for (i, cell) in cells.iter().enumerate() {
        if cell.is_zero() {
            continue;
        }
        // Huge radii make neighbours repeat: a cell equal to the last one walked is skipped
        // (Redis never compares with the centre, index 0).
        if let Some(l) = last.filter(|&l| l > 0) {
            if cells.get(l) == Some(cell) {
                continue;
            }
        }
        if !found.is_empty() && limit > 0 && found.len() >= limit {
            break;
        }
        in_cell(set, *cell, shape, &mut found, limit);
        last = Some(i);
    }
    found
}

/// `membersOfGeoHashBox`: the points of `set` with scores in the cell, inside `shape`.
fn in_cell(set: &ZSet, cell: Bits, shape: &Shape, found: &mut Vec<Point>, limit: usize) {
    let min = cell.align52() as f64;
    let max = Bits {
        bits: cell.bits.wrapping_add(1),
        step: cell.step,
    }
    .align52() as f64;
    // One descent to the first score at or above `min`, then a walk while under `max`.
    let start = set.rank_of_score(min);
    for (member, score) in set.iter_from(start).take_while(|(_, s)| *s < max) {
        if let Some((dist, xy)) = shape.contains(score) {
            found.push(Point {
                member: member.clone(),
                score,
                dist,
                xy,
            });
        }
        if !found.is_empty() && limit > 0 && found.len() >= limit {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_and_deinterleave_are_inverse() {
        for (a, b) in [(0u32, 0u32), (1, 2), (0x3ffffff, 0x1234567), (u32::MAX, 7)] {
            let mixed = interleave64(a, b);
            assert_eq!(deinterleave64(mixed), u64::from(a) | (u64::from(b) << 32));
        }
    }

    #[test]
    fn palermo_encodes_as_redis_stores_it() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" stores score 3479099956230698.
        assert_eq!(score_of(13.361389, 38.115556), Some(3479099956230698));
        let [lon, lat] = decode_score(3479099956230698.0);
        assert!((lon - 13.361389).abs() < 1e-5 && (lat - 38.115556).abs() < 1e-5);
        assert_eq!(&geohash_string(3479099956230698.0), b"sqc8b49rny0");
    }

    #[test]
    fn scores_out_of_range_convert_as_x86_does() {
        assert_eq!(c_u64(-1.0), u64::MAX);
        assert_eq!(c_u64(f64::NEG_INFINITY), 1 << 63);
        assert_eq!(c_u64(1e30), 0);
        assert_eq!(c_i64(1e30), i64::MIN);
    }
}
