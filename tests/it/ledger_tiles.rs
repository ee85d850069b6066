//! Tiles: paths, widths, and a client that sees only tiles recomputing the root.

use cupass_tests::{assert_err, log_signer};
use ledger::{
    Error, Log, MemoryStore,
    tiles::{TileClient, TileId, TileKind, entry_bundle, index_path, parse_entry_bundle},
};

#[test]
fn index_paths_follow_c2sp() {
    assert_eq!(index_path(0), "000");
    assert_eq!(index_path(5), "005");
    assert_eq!(index_path(1234), "x001/234");
    assert_eq!(index_path(1_234_067), "x001/x234/067");
    let t = TileId {
        level: 1,
        index: 1_234_067,
        width: 256,
    };
    assert_eq!(t.path(TileKind::Hashes), "tile/1/x001/x234/067");
    let p = TileId {
        level: 0,
        index: 7,
        width: 5,
    };
    assert_eq!(p.path(TileKind::Entries), "tile/entries/007.p/5");
    for (kind, t) in [(TileKind::Hashes, t), (TileKind::Entries, p)] {
        assert_eq!(TileId::parse_path(&t.path(kind)).unwrap(), (kind, t));
    }
}

#[test]
fn bad_tile_paths_are_refused() {
    for p in [
        "tile/0/1",
        "tile/0/0001",
        "tile/0/x000/001",
        "tile/0/001/002",
        "tile/9/000",
        "tile/00/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/007",
        "tile/0/../000",
        "tile/0/x18446744073709551/615",
        "tile/entries/x99999999/000/000",
        "tiles/0/000",
        "tile/0/",
        "tile/0/000.p/",
        "tile/-1/000",
    ] {
        assert_err!(TileId::parse_path(p), Error::BadTile(_));
    }
}

#[test]
fn widths_at_sizes() {
    assert_eq!(TileId::width_at(0, 0, 0), None);
    assert_eq!(TileId::width_at(0, 0, 1), Some(1));
    assert_eq!(TileId::width_at(0, 0, 256), Some(256));
    assert_eq!(TileId::width_at(0, 1, 256), None);
    assert_eq!(TileId::width_at(0, 1, 300), Some(44));
    assert_eq!(TileId::width_at(1, 0, 300), Some(1));
    assert_eq!(TileId::width_at(1, 0, 255), None);
    assert_eq!(TileId::width_at(2, 0, 65_536), Some(1));
}

#[test]
fn tile_client_recomputes_the_checkpoint_root() {
    let log = Log::create(MemoryStore::new(), log_signer("tiles")).unwrap();
    let mut next = 0u64;
    // Sizes around tile boundaries, up to a full level-1 tile and beyond.
    for target in [
        1u64, 2, 255, 256, 257, 511, 512, 1000, 65_535, 65_536, 65_537, 70_001,
    ] {
        let batch: Vec<Vec<u8>> = (next..target).map(|i| i.to_be_bytes().to_vec()).collect();
        for chunk in batch.chunks(8192) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            log.append_batch(&refs, Vec::new()).unwrap();
        }
        next = target;
        let cp = ledger::Checkpoint::open(&log.checkpoint().unwrap(), log.verifier()).unwrap();
        assert_eq!(cp.size, target);
        let mut fetched = 0;
        let mut client = TileClient::new(target, |id: TileId| {
            fetched += 1;
            log.tile(id)
        });
        assert_eq!(
            client.root().unwrap(),
            cp.root,
            "root from tiles at size {target}"
        );
        client.verify_all(&cp.root).unwrap();
        // Entry bundles check against the level-0 tiles.
        let last = (target - 1) / 256;
        let width = TileId::width_at(0, last, target).unwrap();
        let entries: Vec<Vec<u8>> = (last * 256..last * 256 + u64::from(width))
            .map(|i| log.entry(i).unwrap())
            .collect();
        let bundle = entry_bundle(&entries).unwrap();
        assert_eq!(client.verify_entries(last, &bundle).unwrap(), entries);
        drop(client);
        assert!(fetched > 0);
    }
}

#[test]
fn tampered_tiles_and_bundles_are_rejected() {
    let log = Log::create(MemoryStore::new(), log_signer("tiles")).unwrap();
    let es: Vec<Vec<u8>> = (0..1000u64).map(|i| i.to_be_bytes().to_vec()).collect();
    let refs: Vec<&[u8]> = es.iter().map(Vec::as_slice).collect();
    log.append_batch(&refs, Vec::new()).unwrap();
    let root = log.root().unwrap();
    // Flip one byte of one tile at a time, at several places, and at both levels.
    for (level, index, byte) in [
        (0u8, 0u64, 0usize),
        (0, 1, 100),
        (0, 3, 32 * 231),
        (1, 0, 31),
        (1, 0, 64),
    ] {
        let mut client = TileClient::new(1000, |id: TileId| {
            let mut t = log.tile(id)?;
            if id.level == level && id.index == index {
                let at = byte % t.len();
                t[at] ^= 1;
            }
            Ok(t)
        });
        assert!(
            client.verify_all(&root).is_err(),
            "tile {level}/{index} byte {byte}"
        );
    }
    // A bundle with one changed byte, or truncated, is rejected.
    let good = entry_bundle(&es[..256]).unwrap();
    let mut client = TileClient::new(1000, |id: TileId| log.tile(id));
    let mut bad = good.clone();
    bad[10] ^= 1;
    assert_err!(client.verify_entries(0, &bad), Error::BadTile(_));
    assert_err!(
        client.verify_entries(0, &good[..good.len() - 1]),
        Error::BadTile(_)
    );
    assert_err!(parse_entry_bundle(&[0x00]), Error::BadTile(_));
    // Tiles that do not exist yet are not served.
    let tile = |index, width| TileId {
        level: 0,
        index,
        width,
    };
    assert_err!(log.tile(tile(3, 256)), Error::OutOfRange(_));
    assert_err!(log.tile(tile(4, 1)), Error::OutOfRange(_));
    assert_err!(log.entry_bundle(tile(4, 1)), Error::OutOfRange(_));
    // An older partial width is a prefix of the current tile; entry bundles come from the log.
    let t = log.tile(tile(3, 232)).unwrap();
    assert_eq!(t[..32 * 10], log.tile(tile(3, 10)).unwrap()[..]);
    assert_eq!(log.entry_bundle(tile(0, 256)).unwrap(), good);
}
