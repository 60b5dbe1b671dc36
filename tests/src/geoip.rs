//! A small GeoIP database written by the tests themselves, in the MaxMind DB format
//! (https://maxmind.github.io/MaxMind-DB/): an IPv4 search tree with 32-bit records, a data
//! section of `{"location": {"latitude", "longitude"}}` maps, and the metadata the reader
//! requires. Enough to place test networks in cities.

use std::path::Path;

/// A record of the search tree while it is built.
#[derive(Clone, Copy)]
enum Rec {
    Empty,
    Node(usize),
    Data(usize),
}

/// Control byte(s) of a field of `kind` (MaxMind DB type number) and `size`.
fn control(out: &mut Vec<u8>, kind: u8, size: usize) {
    let (first, extra): (u8, Vec<u8>) = match size {
        0..29 => (size as u8, vec![]),
        29..285 => (29, vec![(size - 29) as u8]),
        _ => (30, ((size - 285) as u16).to_be_bytes().to_vec()),
    };
    if kind <= 7 {
        out.push((kind << 5) | first);
    } else {
        out.push(first);
        out.push(kind - 7);
    }
    out.extend(extra);
}

fn string(out: &mut Vec<u8>, s: &str) {
    control(out, 2, s.len());
    out.extend_from_slice(s.as_bytes());
}

fn double(out: &mut Vec<u8>, v: f64) {
    control(out, 3, 8);
    out.extend_from_slice(&v.to_be_bytes());
}

/// An unsigned integer of MaxMind DB type `kind` (5 uint16, 6 uint32, 9 uint64), in as
/// few bytes as it needs.
fn unsigned(out: &mut Vec<u8>, kind: u8, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    control(out, kind, 8 - skip);
    out.extend_from_slice(&bytes[skip..]);
}

fn map_header(out: &mut Vec<u8>, pairs: usize) {
    control(out, 7, pairs);
}

/// Write a database placing each `(network, prefix length, (latitude, longitude))` at
/// `path`. Addresses outside every network have no record.
pub fn write(path: &Path, places: &[(std::net::Ipv4Addr, u8, (f64, f64))]) -> std::io::Result<()> {
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (_, _, (lat, lon)) in places {
        offsets.push(data.len());
        map_header(&mut data, 1);
        string(&mut data, "location");
        map_header(&mut data, 2);
        string(&mut data, "latitude");
        double(&mut data, *lat);
        string(&mut data, "longitude");
        double(&mut data, *lon);
    }
    // The search tree over the 32 bits of an IPv4 address.
    let mut nodes: Vec<[Rec; 2]> = vec![[Rec::Empty, Rec::Empty]];
    for ((network, prefix, _), offset) in places.iter().zip(&offsets) {
        let bits = u32::from(*network);
        let mut node = 0;
        for depth in 0..*prefix {
            let bit = ((bits >> (31 - depth)) & 1) as usize;
            if depth + 1 == *prefix {
                nodes[node][bit] = Rec::Data(*offset);
            } else {
                node = match nodes[node][bit] {
                    Rec::Node(next) => next,
                    _ => {
                        nodes.push([Rec::Empty, Rec::Empty]);
                        let next = nodes.len() - 1;
                        nodes[node][bit] = Rec::Node(next);
                        next
                    }
                };
            }
        }
    }
    let node_count = nodes.len();
    let mut file = Vec::new();
    for node in &nodes {
        for rec in node {
            let value = match rec {
                Rec::Empty => node_count,
                Rec::Node(n) => *n,
                // Data pointers count from the start of the 16-byte separator.
                Rec::Data(offset) => node_count + 16 + offset,
            };
            file.extend_from_slice(&(value as u32).to_be_bytes());
        }
    }
    file.extend_from_slice(&[0u8; 16]);
    file.extend_from_slice(&data);
    file.extend_from_slice(b"\xAB\xCD\xEFMaxMind.com");
    let mut meta = Vec::new();
    map_header(&mut meta, 9);
    string(&mut meta, "binary_format_major_version");
    unsigned(&mut meta, 5, 2);
    string(&mut meta, "binary_format_minor_version");
    unsigned(&mut meta, 5, 0);
    string(&mut meta, "build_epoch");
    unsigned(&mut meta, 9, 1_800_000_000);
    string(&mut meta, "database_type");
    string(&mut meta, "AnyID-Test-City");
    string(&mut meta, "description");
    map_header(&mut meta, 1);
    string(&mut meta, "en");
    string(&mut meta, "Test networks placed in cities");
    string(&mut meta, "ip_version");
    unsigned(&mut meta, 5, 4);
    string(&mut meta, "languages");
    control(&mut meta, 11, 1);
    string(&mut meta, "en");
    string(&mut meta, "node_count");
    unsigned(&mut meta, 6, node_count as u64);
    string(&mut meta, "record_size");
    unsigned(&mut meta, 5, 32);
    file.extend_from_slice(&meta);
    std::fs::write(path, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The database reads back with the reader the server uses.
    #[test]
    fn the_reader_finds_each_network_where_it_was_placed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.mmdb");
        write(
            &path,
            &[
                ("203.0.113.0".parse().unwrap(), 24, (37.5665, 126.978)),
                ("198.51.100.0".parse().unwrap(), 24, (50.1109, 8.6821)),
            ],
        )
        .unwrap();
        let geoip = anyid::risk::GeoIp::open(&path).unwrap();
        assert_eq!(
            geoip.locate("203.0.113.77".parse().unwrap()),
            Some((37.5665, 126.978))
        );
        assert_eq!(
            geoip.locate("198.51.100.1".parse().unwrap()),
            Some((50.1109, 8.6821))
        );
        assert_eq!(geoip.locate("192.0.2.1".parse().unwrap()), None);
    }
}
