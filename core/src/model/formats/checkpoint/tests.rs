//! Tests of the checkpoint reader and writer: round trips, a checkpoint TensorFlow 1.15 wrote
//! (`core/tests/fixtures/tf_checkpoint`, made by `tools/reference/tf_checkpoint_fixture.py`),
//! corrupt files, and the state files. Three `#[ignore]`d tests take paths from the environment
//! for checks against TensorFlow that CI cannot run (`tools/reference/
//! check_tf_reads_our_checkpoint.py` drives them).

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value as Json, json};

use super::state::c_escape;
use super::writer::{Tensor, Values};
use super::*;
use crate::model::formats::protobuf::Writer;
use crate::model::formats::tf_layout;

/// A fresh folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "deepspeech-checkpoint-{}-{n}-{label}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tf_checkpoint")
}

/// Deterministic values (a linear congruential generator), in [-2, 2).
fn values(seed: u64, n: usize) -> Vec<f32> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
        })
        .collect()
}

fn tensor(shape: &[usize], seed: u64) -> TfTensor {
    let n = shape.iter().product();
    TfTensor::new(shape.to_vec(), values(seed, n)).unwrap()
}

/// Float32 variables of several shapes, the awkward values among them.
fn sample_floats() -> Vec<(String, TfTensor)> {
    let specials = [
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(0x7fc0_1234), // a NaN with a payload
        f32::from_bits(1),           // the smallest subnormal
        f32::MAX,
    ];
    vec![
        ("layer_1/weights".into(), tensor(&[7, 5], 1)),
        ("layer_1/weights/Adam".into(), tensor(&[7, 5], 2)),
        ("layer_1/bias".into(), tensor(&[5], 3)),
        ("learning_rate".into(), tensor(&[], 4)),
        ("empty".into(), tensor(&[0, 3], 5)),
        (
            "specials".into(),
            TfTensor::new(vec![2, 3], specials.to_vec()).unwrap(),
        ),
        (
            "a/deeper/scope/name with spaces".into(),
            tensor(&[2, 1, 2], 6),
        ),
    ]
}

fn bits(data: &[f32]) -> Vec<u32> {
    data.iter().map(|v| v.to_bits()).collect()
}

fn assert_same(read: &HashMap<String, TfTensor>, written: &[(String, TfTensor)]) {
    assert_eq!(read.len(), written.len());
    for (name, t) in written {
        let r = &read[name];
        assert_eq!(r.shape, t.shape, "{name}");
        assert_eq!(bits(&r.data), bits(&t.data), "{name}");
    }
}

#[test]
fn written_checkpoints_read_back_bit_for_bit() {
    let dir = TempDir::new("round-trip");
    let floats = sample_floats();
    let int64s = vec![
        ("global_step".to_owned(), (1i64 << 40) + 7),
        ("counter".to_owned(), -5),
    ];
    let prefix = write_checkpoint(&dir.0, "train-7", &floats, &int64s).unwrap();
    assert_eq!(prefix, dir.0.join("train-7"));
    assert_same(&read_variables(&prefix).unwrap(), &floats);

    let checkpoint = Checkpoint::open(&prefix).unwrap();
    assert_eq!(
        checkpoint.read_i64("global_step").unwrap(),
        (vec![], vec![(1i64 << 40) + 7])
    );
    assert_eq!(checkpoint.read_i64("counter").unwrap().1, vec![-5]);
    let entries = list_entries(&prefix).unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    assert_eq!(entries.len(), floats.len() + 2);
    let step = entries.iter().find(|e| e.name == "global_step").unwrap();
    assert_eq!(
        (step.dtype, step.shape.as_slice()),
        (DataType::INT64, &[][..])
    );

    assert_eq!(
        fs::read_to_string(dir.0.join("checkpoint")).unwrap(),
        "model_checkpoint_path: \"train-7\"\nall_model_checkpoint_paths: \"train-7\"\n"
    );
    assert!(!dir.0.join("best_dev_checkpoint").exists());
    assert_eq!(resolve_prefix(&dir.0).unwrap(), prefix);
    // Nothing but the three files: no temporary file left behind.
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 3);
}

#[test]
fn an_empty_checkpoint_round_trips() {
    let dir = TempDir::new("empty");
    let prefix = write_checkpoint(&dir.0, "nothing", &[], &[]).unwrap();
    assert!(read_variables(&prefix).unwrap().is_empty());
    assert_eq!(fs::metadata(data_path(&prefix)).unwrap().len(), 0);
}

#[test]
fn many_variables_span_many_index_blocks() {
    let dir = TempDir::new("blocks");
    let floats: Vec<(String, TfTensor)> = (0..300)
        .map(|i| {
            let shape = [[].as_slice(), &[3], &[2, 3]][i % 3];
            (
                format!("scope/block_{:03}/sublayer_{}/kernel", i / 4, i % 4),
                tensor(shape, i as u64),
            )
        })
        .collect();
    let tensors = writer::collect(&dir.0, "many", &floats, &[]).unwrap();
    let prefix = dir.0.join("many");
    writer::write_bundle(&prefix, &tensors, 512).unwrap();
    let index = fs::read(index_path(&prefix)).unwrap();
    assert!(sstable::data_block_count(&index).unwrap() > 10);
    assert_same(&read_variables(&prefix).unwrap(), &floats);
}

/// Reads the checkpoint in `dir` and compares it with the `values.json` written beside it (by
/// `tools/reference/tf_checkpoint_fixture.py` or [`write_manifest`]); returns the variable count.
fn check_against_manifest(dir: &Path) -> usize {
    let text = fs::read_to_string(dir.join("values.json")).unwrap();
    let manifest: Json = serde_json::from_str(&text).unwrap();
    let prefix = resolve_prefix(dir).unwrap();
    assert_eq!(prefix, dir.join(manifest["prefix"].as_str().unwrap()));
    let checkpoint = Checkpoint::open(&prefix).unwrap();
    let entries: HashMap<String, EntryInfo> = checkpoint
        .entries()
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect();
    let variables = manifest["variables"].as_array().unwrap();
    assert_eq!(entries.len(), variables.len());
    let floats = read_variables(&prefix).unwrap();
    let mut float_count = 0;
    for v in variables {
        let name = v["name"].as_str().unwrap();
        let entry = &entries[name];
        let shape: Vec<usize> = v["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(entry.shape, shape, "{name}");
        let dtype = v["dtype"].as_str().unwrap();
        assert_eq!(entry.dtype.name(), Some(dtype), "{name}");
        let numbers = |key: &str| v[key].as_array().unwrap().clone();
        match dtype {
            "float32" => {
                let expected: Vec<u64> = numbers("bits")
                    .iter()
                    .map(|b| b.as_u64().unwrap())
                    .collect();
                let found: Vec<u64> = bits(&floats[name].data)
                    .into_iter()
                    .map(u64::from)
                    .collect();
                assert_eq!(found, expected, "{name}");
                float_count += 1;
            }
            "float64" => {
                let expected: Vec<u64> = numbers("bits")
                    .iter()
                    .map(|b| b.as_u64().unwrap())
                    .collect();
                let bytes = checkpoint.read_bytes(name).unwrap();
                let found: Vec<u64> = bytes
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                    .collect();
                assert_eq!(found, expected, "{name}");
            }
            "int64" => {
                let expected: Vec<i64> = numbers("values")
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect();
                assert_eq!(checkpoint.read_i64(name).unwrap().1, expected, "{name}");
            }
            "int32" => {
                let expected: Vec<i64> = numbers("values")
                    .iter()
                    .map(|x| x.as_i64().unwrap())
                    .collect();
                let bytes = checkpoint.read_bytes(name).unwrap();
                let found: Vec<i64> = bytes
                    .chunks_exact(4)
                    .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap())))
                    .collect();
                assert_eq!(found, expected, "{name}");
            }
            other => panic!("unexpected dtype {other} in the manifest"),
        }
    }
    assert_eq!(floats.len(), float_count);
    variables.len()
}

#[test]
fn a_checkpoint_tensorflow_wrote_reads_exactly() {
    let dir = fixture_dir();
    assert_eq!(check_against_manifest(&dir), 256);
    let prefix = resolve_prefix(&dir).unwrap();
    let checkpoint = Checkpoint::open(&prefix).unwrap();
    assert_eq!(
        checkpoint.read_i64("global_step").unwrap().1,
        vec![(1 << 32) + 12345]
    );
    // More than 16 keys: the block has restart points, and keys are prefix-compressed.
    assert!(checkpoint.entries().len() > 16);
    // DeepSpeech's variables in it (n_input 4, n_hidden 2, 3 classes) are a network.
    let (geometry, weights) = tf_layout::to_ours(&read_variables(&prefix).unwrap(), 0.0).unwrap();
    assert_eq!(
        (geometry.n_input, geometry.n_hidden, geometry.n_classes),
        (4, 2, 3)
    );
    assert_eq!(weights["lstm.weight_ih_l0"].dims(), &[8, 2]);
}

/// The fixture's variables as the writer takes them, raw bytes for the dtypes it does not
/// write; `storage` keeps the decoded values alive.
fn manifest_tensors(manifest: &Json, storage: &mut Vec<(Vec<usize>, Vec<f32>, Vec<u8>)>) {
    for v in manifest["variables"].as_array().unwrap() {
        let shape: Vec<usize> = v["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let (mut floats, mut raw) = (Vec::new(), Vec::new());
        match v["dtype"].as_str().unwrap() {
            "float32" => {
                for b in v["bits"].as_array().unwrap() {
                    floats.push(f32::from_bits(b.as_u64().unwrap() as u32));
                }
            }
            "float64" => {
                for b in v["bits"].as_array().unwrap() {
                    raw.extend(b.as_u64().unwrap().to_le_bytes());
                }
            }
            "int32" => {
                for x in v["values"].as_array().unwrap() {
                    raw.extend((x.as_i64().unwrap() as i32).to_le_bytes());
                }
            }
            _ => {}
        }
        storage.push((shape, floats, raw));
    }
}

#[test]
fn the_writer_writes_the_bytes_tensorflow_writes() {
    let fixture = fixture_dir();
    let manifest: Json =
        serde_json::from_str(&fs::read_to_string(fixture.join("values.json")).unwrap()).unwrap();
    let mut storage = Vec::new();
    manifest_tensors(&manifest, &mut storage);
    let mut tensors: Vec<Tensor> = Vec::new();
    for (v, (shape, floats, raw)) in manifest["variables"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&storage)
    {
        let name = v["name"].as_str().unwrap();
        let (dtype, values) = match v["dtype"].as_str().unwrap() {
            "float32" => (DataType::FLOAT, Values::F32(floats)),
            "float64" => (DataType::DOUBLE, Values::Raw(raw)),
            "int32" => (DataType::INT32, Values::Raw(raw)),
            "int64" => (
                DataType::INT64,
                Values::I64(v["values"][0].as_i64().unwrap()),
            ),
            other => panic!("unexpected dtype {other}"),
        };
        tensors.push(Tensor {
            name,
            dtype,
            shape,
            values,
        });
    }
    writer::check_names(&mut tensors).unwrap();
    let dir = TempDir::new("same-bytes");
    let name = manifest["prefix"].as_str().unwrap();
    writer::write_bundle(&dir.0.join(name), &tensors, sstable::DEFAULT_BLOCK_SIZE).unwrap();
    for file in [index_path(Path::new(name)), data_path(Path::new(name))] {
        let ours = fs::read(dir.0.join(&file)).unwrap();
        let theirs = fs::read(fixture.join(&file)).unwrap();
        assert!(
            ours == theirs,
            "{} differs from TensorFlow's",
            file.display()
        );
    }
}

/// A copy of the fixture in a temporary folder, to damage.
fn fixture_copy(label: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(label);
    for entry in fs::read_dir(fixture_dir()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.0.join(entry.file_name())).unwrap();
    }
    let prefix = resolve_prefix(&dir.0).unwrap();
    (dir, prefix)
}

#[test]
fn a_damaged_index_is_an_error_naming_it() {
    let (_dir, prefix) = fixture_copy("bad-index");
    let path = index_path(&prefix);
    let good = fs::read(&path).unwrap();
    // Every truncation.
    for cut in (0..good.len()).step_by(7).chain([good.len() - 1]) {
        fs::write(&path, &good[..cut]).unwrap();
        let e = Checkpoint::open(&prefix).unwrap_err();
        assert!(
            matches!(e, CheckpointFormatError::Index { .. }),
            "cut {cut}: {e}"
        );
        assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
    }
    // A wrong magic number, a flipped bit in an entry.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 3] ^= 0x10;
    fs::write(&path, &bad).unwrap();
    let e = Checkpoint::open(&prefix).unwrap_err();
    assert!(
        matches!(
            e,
            CheckpointFormatError::Index {
                source: TableError::BadMagic(_),
                ..
            }
        ),
        "{e}"
    );
    let mut bad = good.clone();
    bad[100] ^= 0x01;
    fs::write(&path, &bad).unwrap();
    let e = Checkpoint::open(&prefix).unwrap_err();
    assert!(
        matches!(
            e,
            CheckpointFormatError::Index {
                source: TableError::Checksum { .. },
                ..
            }
        ),
        "{e}"
    );
    // No flip anywhere panics.
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x80;
        fs::write(&path, &bad).unwrap();
        let _ = Checkpoint::open(&prefix).and_then(|c| read_variables(c.prefix()));
    }
    // Missing altogether.
    fs::remove_file(&path).unwrap();
    assert!(matches!(
        Checkpoint::open(&prefix).unwrap_err(),
        CheckpointFormatError::Io { .. }
    ));
}

#[test]
fn damaged_data_is_an_error_naming_the_variable() {
    let (_dir, prefix) = fixture_copy("bad-data");
    let path = data_path(&prefix);
    let good = fs::read(&path).unwrap();
    let checkpoint = Checkpoint::open(&prefix).unwrap();
    // The first variable in the data file: the one at offset 0 (TensorFlow writes them in
    // name order).
    let first = &checkpoint.entries()[0].name;
    let mut bad = good.clone();
    bad[0] ^= 0x04;
    fs::write(&path, &bad).unwrap();
    let e = checkpoint.read_f32(first).unwrap_err();
    assert!(
        matches!(&e, CheckpointFormatError::DataChecksum { name, .. } if name == first),
        "{e}"
    );
    assert!(read_variables(&prefix).is_err());
    // Truncated: the last variables (`specials/…`) lie past the end.
    fs::write(&path, &good[..good.len() - 100]).unwrap();
    let e = read_variables(&prefix).expect_err("a truncated file was read");
    assert!(matches!(e, CheckpointFormatError::DataRange { .. }), "{e}");
    assert!(e.to_string().contains(DATA_SUFFIX), "{e}");
    fs::remove_file(&path).unwrap();
    assert!(matches!(
        read_variables(&prefix).err(),
        Some(CheckpointFormatError::Io { .. })
    ));
}

/// An index holding `header` and one entry `x` with the encoded `entry`.
fn index_with(header: &[u8], entry: &[u8]) -> Vec<u8> {
    let mut table = sstable::TableBuilder::default();
    table.add(b"", header).unwrap();
    table.add(b"x", entry).unwrap();
    table.finish()
}

fn good_header() -> Vec<u8> {
    let mut version = Writer::new();
    version.varint(1, 1);
    let mut w = Writer::new();
    w.varint(1, 1).bytes(3, &version.into_bytes());
    w.into_bytes()
}

/// A float32 entry of shape `dims` (raw varints, so that -1 can be written).
fn entry_bytes(dims: &[u64], offset: u64, size: u64, crc: u32) -> Vec<u8> {
    let mut shape = Writer::new();
    for &d in dims {
        let mut dim = Writer::new();
        dim.varint(1, d);
        shape.bytes(2, &dim.into_bytes());
    }
    let mut w = Writer::new();
    w.varint(1, 1)
        .bytes(2, &shape.into_bytes())
        .varint(4, offset)
        .varint(5, size)
        .fixed32(6, crc);
    w.into_bytes()
}

#[test]
fn entries_that_lie_are_errors() {
    let dir = TempDir::new("lying");
    let prefix = dir.0.join("p");
    let data = [1.0f32, 2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect::<Vec<u8>>();
    fs::write(data_path(&prefix), &data).unwrap();
    let crc = crc32c::mask(crc32c::value(&data));
    let read = |header: &[u8], entry: &[u8]| {
        fs::write(index_path(&prefix), index_with(header, entry)).unwrap();
        Checkpoint::open(&prefix).and_then(|c| c.read_f32("x"))
    };
    let ok = read(&good_header(), &entry_bytes(&[2], 0, 8, crc)).unwrap();
    assert_eq!(ok.data, vec![1.0, 2.0]);

    let err = |header: &[u8], entry: &[u8]| read(header, entry).unwrap_err().to_string();
    assert!(err(&good_header(), &entry_bytes(&[2], 4, 8, crc)).contains("run past the end"));
    assert!(err(&good_header(), &entry_bytes(&[2], u64::MAX, 8, crc)).contains("run past the end"));
    assert!(err(&good_header(), &entry_bytes(&[3], 0, 8, crc)).contains("has shape [3]"));
    assert!(err(&good_header(), &entry_bytes(&[2], 0, 8, crc ^ 1)).contains("checksum"));
    assert!(err(&good_header(), &entry_bytes(&[u64::MAX], 0, 8, crc)).contains("size -1"));
    let huge = 1u64 << 40;
    assert!(err(&good_header(), &entry_bytes(&[huge, huge], 0, 8, crc)).contains("has shape"));
    let mut sliced = entry_bytes(&[2], 0, 8, crc);
    sliced.extend([0x3a, 0x00]); // field 7, an empty TensorSliceProto
    assert!(err(&good_header(), &sliced).contains("slices"));
    let mut sharded = entry_bytes(&[2], 0, 8, crc);
    sharded.extend([0x18, 0x01]); // shard_id 1 of 1
    assert!(err(&good_header(), &sharded).contains("shard"));
    assert!(err(&good_header(), &[0x0a, 0x05]).contains("BundleEntryProto"));

    let mut big_endian = good_header();
    big_endian.extend([0x10, 0x01]);
    assert!(err(&big_endian, &entry_bytes(&[2], 0, 8, crc)).contains("big-endian"));
    let mut future = good_header();
    future.extend([0x1a, 0x02, 0x10, 0x02]); // version { min_consumer: 2 }
    assert!(err(&future, &entry_bytes(&[2], 0, 8, crc)).contains("version 2"));

    // No header: the first key is not empty.
    let mut table = sstable::TableBuilder::default();
    table.add(b"x", &entry_bytes(&[2], 0, 8, crc)).unwrap();
    fs::write(index_path(&prefix), table.finish()).unwrap();
    assert!(
        Checkpoint::open(&prefix)
            .unwrap_err()
            .to_string()
            .contains("not the header")
    );
    fs::write(
        index_path(&prefix),
        sstable::TableBuilder::default().finish(),
    )
    .unwrap();
    assert!(
        Checkpoint::open(&prefix)
            .unwrap_err()
            .to_string()
            .contains("no header")
    );
}

#[test]
fn wrong_dtypes_and_names_are_errors() {
    let prefix = resolve_prefix(&fixture_dir()).unwrap();
    let checkpoint = Checkpoint::open(&prefix).unwrap();
    let e = checkpoint.read_f32("global_step").unwrap_err();
    assert!(
        matches!(
            e,
            CheckpointFormatError::DType {
                found: DataType::INT64,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("holds int64, not float32"), "{e}");
    let e = checkpoint.read_i64("layer_1/bias").unwrap_err();
    assert!(matches!(e, CheckpointFormatError::DType { .. }), "{e}");
    let e = checkpoint.read_f32("layer_4/bias").unwrap_err();
    assert!(
        matches!(e, CheckpointFormatError::NotFound { count: 256, .. }),
        "{e}"
    );
}

#[test]
fn invalid_variables_are_refused_before_writing() {
    let dir = TempDir::new("invalid");
    let bad_shape = [(
        "a".to_owned(),
        TfTensor {
            shape: vec![2, 2],
            data: vec![0.0; 3],
        },
    )];
    let twice = [("a".to_owned(), tensor(&[1], 1))];
    let step = [("a".to_owned(), 1i64)];
    let unnamed = [(String::new(), tensor(&[1], 1))];
    for (name, floats, int64s) in [
        ("ok", &bad_shape[..], &[][..]),
        ("ok", &twice[..], &step[..]),
        ("ok", &unnamed[..], &[][..]),
        ("", &twice[..], &[][..]),
        ("sub/dir", &twice[..], &[][..]),
    ] {
        let e = write_checkpoint(&dir.0, name, floats, int64s).unwrap_err();
        assert!(
            matches!(e, CheckpointFormatError::InvalidInput { .. }),
            "{e}"
        );
    }
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 0);
}

#[test]
fn prefixes_resolve_from_folders_files_and_state_files() {
    let dir = TempDir::new("resolve");
    let floats = vec![("v".to_owned(), tensor(&[2], 1))];
    let train = write_checkpoint(&dir.0, "train-10", &floats, &[]).unwrap();
    assert_eq!(resolve_prefix(&dir.0).unwrap(), train);
    let best = write_checkpoint(&dir.0, "best_dev-5", &floats, &[]).unwrap();
    // DeepSpeech loads the best dev checkpoint first.
    assert_eq!(resolve_prefix(&dir.0).unwrap(), best);
    assert_eq!(resolve_prefix(&dir.0.join("checkpoint")).unwrap(), train);
    for file in [
        index_path(&train),
        data_path(&train),
        with_suffix(&train, ".meta"),
    ] {
        fs::write(with_suffix(&train, ".meta"), b"").unwrap();
        assert_eq!(resolve_prefix(&file).unwrap(), train, "{}", file.display());
    }
    assert_eq!(resolve_prefix(&train).unwrap(), train);

    // An absolute path, and one to where the folder used to be.
    let state = dir.0.join("checkpoint");
    fs::write(
        &state,
        format!("model_checkpoint_path: \"{}\"\n", train.display()),
    )
    .unwrap();
    assert_eq!(resolve_prefix(&state).unwrap(), train);
    fs::write(
        &state,
        "model_checkpoint_path: \"/gone/elsewhere/train-10\"\n",
    )
    .unwrap();
    assert_eq!(resolve_prefix(&state).unwrap(), train);

    // What TensorFlow 2 writes: timestamps, and escapes in the strings.
    fs::write(
        &state,
        "# a comment\nmodel_checkpoint_path: \"tra\" 'in-10'\n\
         all_model_checkpoint_paths: \"train-\\06110\"\n\
         all_model_checkpoint_timestamps: 1733322222.5\nlast_preserved_timestamp: 1.7e9\n",
    )
    .unwrap();
    assert_eq!(resolve_prefix(&state).unwrap(), train);

    // Errors name the state file.
    fs::write(&state, "model_checkpoint_path: \"train-11\"\n").unwrap();
    let e = resolve_prefix(&state).unwrap_err();
    assert!(matches!(e, CheckpointFormatError::State { .. }), "{e}");
    assert!(e.to_string().contains("train-11.index"), "{e}");
    for text in [
        "all_model_checkpoint_paths: \"x\"\n",
        "model_checkpoint_path: 3\n",
        "model_checkpoint_path \"x\"",
        "model_checkpoint_path: \"x",
        "model_checkpoint_path: \"\\q\"",
    ] {
        fs::write(&state, text).unwrap();
        let e = resolve_prefix(&state).unwrap_err();
        assert!(
            matches!(e, CheckpointFormatError::State { .. }),
            "{text}: {e}"
        );
    }
    assert!(matches!(
        resolve_prefix(&dir.0.join("nothing")).unwrap_err(),
        CheckpointFormatError::NotACheckpoint { .. }
    ));
    let empty = TempDir::new("resolve-empty");
    assert!(matches!(
        resolve_prefix(&empty.0).unwrap_err(),
        CheckpointFormatError::NotACheckpoint { .. }
    ));
}

#[test]
fn state_files_keep_the_checkpoints_that_still_exist() {
    let dir = TempDir::new("state");
    let floats = vec![("v".to_owned(), tensor(&[2], 1))];
    for step in [1, 2] {
        write_checkpoint(&dir.0, &format!("train-{step}"), &floats, &[]).unwrap();
    }
    let state = |file: &str| {
        CheckpointState::parse(&fs::read_to_string(dir.0.join(file)).unwrap()).unwrap()
    };
    assert_eq!(
        state("checkpoint").all_model_checkpoint_paths,
        ["train-1", "train-2"]
    );
    fs::remove_file(index_path(&dir.0.join("train-1"))).unwrap();
    write_checkpoint(&dir.0, "train-3", &floats, &[]).unwrap();
    write_checkpoint(&dir.0, "train-3", &floats, &[]).unwrap();
    let latest = state("checkpoint");
    assert_eq!(latest.model_checkpoint_path.as_deref(), Some("train-3"));
    assert_eq!(latest.all_model_checkpoint_paths, ["train-2", "train-3"]);
    write_checkpoint_with_state(&dir.0, "odd", &floats, &[], StateFile::BestDev).unwrap();
    assert_eq!(
        state("best_dev_checkpoint")
            .model_checkpoint_path
            .as_deref(),
        Some("odd")
    );
    assert_eq!(state("checkpoint"), latest);
}

#[test]
fn state_file_strings_escape_and_unescape() {
    for path in [
        "train-1",
        "dir with \"quotes\"/and\\backslash",
        "tab\there",
        "Zürich/ckpt-Ω",
        "it's",
    ] {
        let state = CheckpointState {
            model_checkpoint_path: Some(path.to_owned()),
            all_model_checkpoint_paths: vec![path.to_owned()],
        };
        let text = state.to_text();
        assert!(text.is_ascii(), "{text}");
        assert_eq!(CheckpointState::parse(&text).unwrap(), state, "{text}");
    }
    // Protobuf's text format writes non-ASCII bytes in octal.
    assert_eq!(c_escape("é"), "\\303\\251");
}

#[test]
fn dtypes_have_names_and_sizes() {
    assert_eq!(DataType::FLOAT.to_string(), "float32");
    assert_eq!(DataType::INT64.element_size(), Some(8));
    assert_eq!(DataType(7).element_size(), None);
    assert_eq!(DataType(99).to_string(), "DataType 99");
}

// --- Checks against TensorFlow, driven by tools/reference/check_tf_reads_our_checkpoint.py ---

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from)
}

/// A larger checkpoint TensorFlow wrote (`tf_checkpoint_fixture.py --entries 12000`: an index
/// of several data blocks), in `$DEEPSPEECH_TF_CHECKPOINT_DIR`.
#[test]
#[ignore = "needs a TensorFlow-written checkpoint in $DEEPSPEECH_TF_CHECKPOINT_DIR"]
fn tensorflow_checkpoint_from_the_environment() {
    let dir = env_path("DEEPSPEECH_TF_CHECKPOINT_DIR").expect("set DEEPSPEECH_TF_CHECKPOINT_DIR");
    let count = check_against_manifest(&dir);
    let index = fs::read(index_path(&resolve_prefix(&dir).unwrap())).unwrap();
    let blocks = sstable::data_block_count(&index).unwrap();
    println!(
        "{}: {count} variables, {blocks} index data blocks, all equal",
        dir.display()
    );
}

/// A checkpoint DeepSpeech's training wrote, in `$DEEPSPEECH_REAL_CHECKPOINT` (folder or prefix):
/// its variables make a network.
#[test]
#[ignore = "needs a DeepSpeech training checkpoint in $DEEPSPEECH_REAL_CHECKPOINT"]
fn deepspeech_checkpoint_from_the_environment() {
    let path = env_path("DEEPSPEECH_REAL_CHECKPOINT").expect("set DEEPSPEECH_REAL_CHECKPOINT");
    let prefix = resolve_prefix(&path).unwrap();
    let checkpoint = Checkpoint::open(&prefix).unwrap();
    for e in checkpoint.entries() {
        println!("{} {} {:?}", e.name, e.dtype, e.shape);
    }
    let variables = read_variables(&prefix).unwrap();
    let (geometry, weights) = tf_layout::to_ours(&variables, 0.0).unwrap();
    let step = checkpoint.read_i64("global_step").unwrap().1[0];
    println!(
        "{}: global_step {step}, {} float32 variables, geometry {geometry:?}, {} tensors of ours",
        prefix.display(),
        variables.len(),
        weights.len()
    );
}

/// Writes `values.json` in the format of `tf_checkpoint_fixture.py`'s.
fn write_manifest(
    dir: &Path,
    prefix: &str,
    floats: &[(String, TfTensor)],
    int64s: &[(String, i64)],
) {
    let mut variables: Vec<Json> = floats
        .iter()
        .map(|(name, t)| {
            json!({"name": name, "dtype": "float32", "shape": t.shape, "bits": bits(&t.data)})
        })
        .collect();
    variables.extend(
        int64s
            .iter()
            .map(|(name, v)| json!({"name": name, "dtype": "int64", "shape": [], "values": [v]})),
    );
    let manifest = json!({"prefix": prefix, "variables": variables});
    fs::write(dir.join("values.json"), manifest.to_string()).unwrap();
}

/// Writes, into `$DEEPSPEECH_CHECKPOINT_OUT`, checkpoints for TensorFlow to read:
/// `synthetic/` (12 000 variables, an index of several blocks; `train-7` in `checkpoint`,
/// `best_dev-3` in `best_dev_checkpoint`, each with its `values.json`), and, when
/// `$DEEPSPEECH_REAL_CHECKPOINT` is set, `deepspeech/`: that checkpoint's variables, read and
/// written back by us.
#[test]
#[ignore = "writes checkpoints into $DEEPSPEECH_CHECKPOINT_OUT for TensorFlow to read"]
fn write_checkpoints_for_tensorflow() {
    let out = env_path("DEEPSPEECH_CHECKPOINT_OUT").expect("set DEEPSPEECH_CHECKPOINT_OUT");
    let synthetic = out.join("synthetic");
    let _ = fs::remove_dir_all(&synthetic);
    let shapes: [&[usize]; 5] = [&[], &[3], &[2, 3], &[0, 3], &[5, 1, 2]];
    let mut floats = sample_floats();
    floats.extend((0..12_000).map(|i| {
        (
            format!("synthetic/group_{:04}/variable_{}", i / 10, i % 10),
            tensor(shapes[i % shapes.len()], 100 + i as u64),
        )
    }));
    let int64s = vec![
        ("global_step".to_owned(), (1i64 << 40) + 7),
        ("counter".to_owned(), -5),
    ];
    let prefix = write_checkpoint(&synthetic, "train-7", &floats, &int64s).unwrap();
    let index = fs::read(index_path(&prefix)).unwrap();
    let blocks = sstable::data_block_count(&index).unwrap();
    assert!(blocks > 1, "{blocks} blocks");
    let best = &floats[..20];
    let best_dir = synthetic.join("best");
    write_checkpoint(&best_dir, "best_dev-3", best, &int64s[..1]).unwrap();
    write_manifest(&synthetic, "train-7", &floats, &int64s);
    write_manifest(&best_dir, "best_dev-3", best, &int64s[..1]);
    println!(
        "{}: {} variables, {blocks} index data blocks",
        prefix.display(),
        floats.len() + 2
    );

    if let Some(source) = env_path("DEEPSPEECH_REAL_CHECKPOINT") {
        let source = resolve_prefix(&source).unwrap();
        let checkpoint = Checkpoint::open(&source).unwrap();
        let mut floats: Vec<(String, TfTensor)> =
            read_variables(&source).unwrap().into_iter().collect();
        floats.sort_by(|a, b| a.0.cmp(&b.0));
        let int64s: Vec<(String, i64)> = checkpoint
            .entries()
            .into_iter()
            .filter(|e| e.dtype == DataType::INT64 && e.shape.is_empty())
            .map(|e| {
                let v = checkpoint.read_i64(&e.name).unwrap().1[0];
                (e.name, v)
            })
            .collect();
        assert_eq!(floats.len() + int64s.len(), checkpoint.entries().len());
        let dir = out.join("deepspeech");
        let _ = fs::remove_dir_all(&dir);
        let name = source.file_name().unwrap().to_str().unwrap();
        let prefix = write_checkpoint(&dir, name, &floats, &int64s).unwrap();
        write_manifest(&dir, name, &floats, &int64s);
        println!("{}: rewritten from {}", prefix.display(), source.display());
    }
}
