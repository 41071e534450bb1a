//! Tests against real files: `ldc93s1-64.tflite` is DeepSpeech 0.9.3's own `--export_tflite`
//! (TensorFlow 1.15.5, int8 weights) of a 64-unit network trained on LDC93S1; the `-f32` and
//! `-f16` files and `ldc93s1-64-checkpoint.json` (the checkpoint's values) were made from the
//! same checkpoint by `tools/reference/tflite_variants.py`, `add.tflite` is a foreign model.

use std::collections::HashMap;

use super::flatbuffer::{self, Table};
use super::schema::{self, op};
use super::*;
use crate::model::formats::metadata::deserialize_alphabet;
use crate::model::formats::tf_layout::LSTM_SCOPE;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/deepspeech/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{DIR}{name}: {e}"))
}

/// DeepSpeech's variables and their shapes for n_hidden 64.
fn expected_shapes() -> Vec<(String, Vec<usize>)> {
    let mut v = vec![];
    for (layer, i, o) in [
        ("layer_1", 494, 64),
        ("layer_2", 64, 64),
        ("layer_3", 64, 64),
        ("layer_5", 64, 64),
        ("layer_6", 64, 29),
    ] {
        v.push((format!("{layer}/weights"), vec![i, o]));
        v.push((format!("{layer}/bias"), vec![o]));
    }
    v.push((format!("{LSTM_SCOPE}/kernel"), vec![128, 256]));
    v.push((format!("{LSTM_SCOPE}/bias"), vec![256]));
    v
}

#[test]
fn sniffs_tflite_only() {
    assert!(sniff(&fixture("ldc93s1-64.tflite")));
    assert!(sniff(&fixture("add.tflite")));
    assert!(!sniff(&fixture("ldc93s1-64.pb")));
    assert!(!sniff(b"TFL3"));
    assert!(!sniff(b""));
}

#[test]
fn reads_deepspeechs_int8_export_and_its_metadata() {
    let m = read(&fixture("ldc93s1-64.tflite")).unwrap();
    assert_eq!(m.quantisation, Quantisation::Int8PerTensor);
    assert_eq!(m.relu_clip, 20.0);
    assert_eq!(m.forget_bias, 0.0);
    let mut names: Vec<&String> = m.variables.keys().collect();
    names.sort();
    let mut expected = expected_shapes();
    expected.sort();
    assert_eq!(names, expected.iter().map(|e| &e.0).collect::<Vec<_>>());
    for (name, shape) in &expected {
        assert_eq!(&m.variables[name].shape, shape, "{name}");
    }
    let md = &m.metadata;
    assert_eq!(md.version, Some(6));
    assert_eq!(md.sample_rate, Some(16000));
    assert_eq!(md.win_len_ms, Some(32));
    assert_eq!(md.win_step_ms, Some(20));
    assert_eq!(md.beam_width, Some(100));
    assert_eq!(md.language.as_deref(), Some("en"));
    assert_eq!(
        (md.n_steps, md.n_context, md.n_coefficients),
        (Some(16), Some(9), Some(26))
    );
    let alphabet = deserialize_alphabet(md.alphabet.as_ref().unwrap()).unwrap();
    let mut english = vec![" ".to_owned()];
    english.extend(('a'..='z').map(String::from));
    english.push("'".into());
    assert_eq!(alphabet, english);
    // And our network takes it.
    let (g, weights) = tf_layout::to_ours(&m.variables, m.forget_bias).unwrap();
    assert_eq!((g.n_input, g.n_hidden, g.n_classes), (494, 64, 29));
    assert_eq!(weights["lstm.weight_ih_l0"].dims(), [256, 64]);
}

#[test]
fn float32_export_matches_the_checkpoint_exactly() {
    let m = read(&fixture("ldc93s1-64-f32.tflite")).unwrap();
    assert_eq!(m.quantisation, Quantisation::Float32);
    let json: serde_json::Value =
        serde_json::from_slice(&fixture("ldc93s1-64-checkpoint.json")).unwrap();
    let vars = json["variables"].as_object().unwrap();
    assert_eq!(vars.len(), 12);
    for (name, v) in vars {
        let ours = &m.variables[name];
        let shape: Vec<usize> = v["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(ours.shape, shape, "{name}");
        for s in v["samples"].as_array().unwrap() {
            let (i, bits) = (
                s[0].as_u64().unwrap() as usize,
                s[1].as_u64().unwrap() as u32,
            );
            assert_eq!(ours.data[i].to_bits(), bits, "{name}[{i}]");
        }
        let sum: f64 = ours.data.iter().map(|&x| f64::from(x)).sum();
        let expected = v["sum"].as_f64().unwrap();
        assert!(
            (sum - expected).abs() <= 1e-9 * (1.0 + expected.abs()),
            "{name}: {sum} vs {expected}"
        );
    }
}

/// The int8 weight matrices' scales in the int8 fixture, by variable name (TOCO names them
/// after the transposed variable).
fn int8_scales(bytes: &[u8]) -> HashMap<String, f32> {
    let model = schema::parse(bytes).unwrap();
    let mut scales = HashMap::new();
    for t in model
        .tensors
        .iter()
        .filter(|t| t.dtype == schema::dtype::INT8)
    {
        let q = t.quantisation.as_ref().unwrap();
        assert_eq!(q.scale.len(), 1, "{}", t.name);
        assert_eq!(q.zero_point, vec![0], "{}", t.name);
        let name = if t.name.contains("/kernel") {
            format!("{LSTM_SCOPE}/kernel")
        } else {
            t.name.trim_end_matches("/transpose").to_owned()
        };
        scales.insert(name, q.scale[0]);
    }
    scales
}

#[test]
fn quantised_exports_match_float32_within_their_precision() {
    let f32_model = read(&fixture("ldc93s1-64-f32.tflite")).unwrap();
    let int8_bytes = fixture("ldc93s1-64.tflite");
    let int8 = read(&int8_bytes).unwrap();
    let f16 = read(&fixture("ldc93s1-64-f16.tflite")).unwrap();
    assert_eq!(f16.quantisation, Quantisation::Float16);
    assert_eq!((f16.relu_clip, f16.forget_bias), (20.0, 0.0));
    assert_eq!(f16.metadata, f32_model.metadata);
    assert_eq!(int8.metadata, f32_model.metadata);
    let scales = int8_scales(&int8_bytes);
    assert_eq!(scales.len(), 6, "{scales:?}");
    for (name, exact) in &f32_model.variables {
        let q = &int8.variables[name];
        let h = &f16.variables[name];
        assert_eq!((&q.shape, &h.shape), (&exact.shape, &exact.shape), "{name}");
        match scales.get(name) {
            // Weights: round to the nearest multiple of the scale.
            Some(&scale) => {
                for (i, (&w, &wq)) in exact.data.iter().zip(&q.data).enumerate() {
                    assert!(
                        (w - wq).abs() <= scale * 0.500_01,
                        "{name}[{i}]: {w} vs {wq}, scale {scale}"
                    );
                    let steps = wq / scale;
                    assert!(
                        (steps - steps.round()).abs() < 1e-3 && steps.abs() <= 127.5,
                        "{name}[{i}]"
                    );
                }
            }
            // Biases stay float32 in dynamic-range quantisation.
            None => assert_eq!(q.data, exact.data, "{name}"),
        }
        // float16: round to nearest, a relative error of at most 2^-11 (or 2^-25 absolute for
        // subnormals).
        for (i, (&w, &wh)) in exact.data.iter().zip(&h.data).enumerate() {
            let bound = (w.abs() * f32::powi(2.0, -11)).max(f32::powi(2.0, -25));
            assert!((w - wh).abs() <= bound, "{name}[{i}]: {w} vs {wh}");
        }
    }
}

#[test]
fn agrees_with_the_frozen_graph_of_the_same_weights() {
    let pb = crate::model::formats::tensorflow::read_frozen(&fixture("ldc93s1-64.pb")).unwrap();
    let m = read(&fixture("ldc93s1-64-f32.tflite")).unwrap();
    assert_eq!(m.variables, pb.variables);
    assert_eq!((m.relu_clip, m.forget_bias), (pb.relu_clip, pb.forget_bias));
    assert_eq!(m.metadata, pb.metadata);
}

#[test]
fn foreign_and_broken_files_are_refused_with_what_was_found() {
    let e = read(&fixture("add.tflite")).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, TfliteError::NotDeepSpeech(_)), "{e:?}");
    assert!(
        text.contains("input_node") && text.contains("`a`") && text.contains("`b`"),
        "{text}"
    );
    let pb = read(&fixture("ldc93s1-64.pb")).unwrap_err();
    assert!(matches!(pb, TfliteError::NotTflite(_)), "{pb:?}");
    assert!(matches!(read(b""), Err(TfliteError::NotTflite(_))));
    assert!(matches!(
        read(b"\0\0\0\0TFL3"),
        Err(TfliteError::Malformed(_))
    ));
}

/// The main subgraph's operator tables and the operator-code tables of `bytes`.
fn tables(bytes: &[u8]) -> (Vec<Table<'_>>, Vec<Table<'_>>) {
    let root = flatbuffer::root(bytes).unwrap();
    let subgraph = root.tables(2).unwrap().unwrap()[0];
    (
        subgraph.tables(3).unwrap().unwrap(),
        root.tables(1).unwrap().unwrap(),
    )
}

/// The position of the first op of builtin `code` after `skip` others, and of opcode `code`.
fn op_position(bytes: &[u8], code: i32, skip: usize) -> (usize, usize) {
    let model = schema::parse(bytes).unwrap();
    let (ops, codes) = tables(bytes);
    let opcode = model
        .opcodes
        .iter()
        .position(|c| c.builtin == code)
        .unwrap();
    let index = model
        .operators
        .iter()
        .enumerate()
        .filter(|(_, o)| o.opcode == opcode)
        .nth(skip)
        .unwrap()
        .0;
    let op_field = ops[index].field_position(0).unwrap().unwrap();
    let code_field = codes[opcode].field_position(0).unwrap().unwrap();
    (op_field, code_field)
}

/// `bytes` with the `n`-th op of builtin `from` turned into the first op of builtin `to`.
fn retarget_op(bytes: &[u8], from: i32, n: usize, to: i32) -> Vec<u8> {
    let model = schema::parse(bytes).unwrap();
    let to_index = model.opcodes.iter().position(|c| c.builtin == to).unwrap() as u32;
    let (field, _) = op_position(bytes, from, n);
    let mut out = bytes.to_vec();
    out[field..field + 4].copy_from_slice(&to_index.to_le_bytes());
    out
}

fn unexpected_at(bytes: &[u8]) -> (String, String) {
    match read(bytes).unwrap_err() {
        TfliteError::Unexpected { at, found, .. } => (at, found),
        other => panic!("{other:?}"),
    }
}

#[test]
fn graphs_that_leave_deepspeechs_path_are_refused() {
    let real = fixture("ldc93s1-64.tflite");
    // An unknown op where layer_1's clipped ReLU should be: every MINIMUM becomes a MAXIMUM
    // (55), by rewriting the opcode table.
    let (_, code_field) = op_position(&real, op::MINIMUM, 0);
    let mut maxed = real.clone();
    maxed[code_field] = 55;
    let (at, found) = unexpected_at(&maxed);
    assert_eq!(at, "layer_1");
    assert!(found.contains("MAXIMUM"), "{found}");
    // No SOFTMAX at the end.
    let (at, found) = unexpected_at(&retarget_op(&real, op::SOFTMAX, 0, op::LOGISTIC));
    assert_eq!(at, "the output (after layer_6)");
    assert!(found.contains("LOGISTIC"), "{found}");
    // An extra FULLY_CONNECTED off the path (the MFCC output's RESHAPE made one).
    let (at, found) = unexpected_at(&retarget_op(&real, op::RESHAPE, 1, op::FULLY_CONNECTED));
    assert_eq!(at, "the graph");
    assert!(
        found.contains("off the path") && found.contains("`mfccs`"),
        "{found}"
    );
    // The forget gate's sigmoid (step 0's first LOGISTIC, on split:2) made a TANH: the gates
    // no longer read as TensorFlow's i, j, f, o.
    let (at, _) = unexpected_at(&retarget_op(&real, op::LOGISTIC, 0, op::TANH));
    assert_eq!(at, "LSTM step 0");
    // A missing layer: layer_3's FULLY_CONNECTED made a RESHAPE (passed through as a shape
    // change), so a MINIMUM follows layer_2 where layer_3's FULLY_CONNECTED should be.
    let (at, found) = unexpected_at(&retarget_op(&real, op::FULLY_CONNECTED, 2, op::RESHAPE));
    assert_eq!(at, "layer_3");
    assert!(found.contains("MINIMUM"), "{found}");
}

#[test]
fn old_graph_versions_are_refused() {
    let real = fixture("ldc93s1-64.tflite");
    let model = schema::parse(&real).unwrap();
    let copy = model
        .tensors
        .iter()
        .find(|t| t.name == "metadata_version_copy")
        .unwrap();
    let data = model.buffers[copy.buffer];
    assert_eq!(data, 6i32.to_le_bytes());
    let at = data.as_ptr() as usize - real.as_ptr() as usize;
    let mut old = real.clone();
    old[at..at + 4].copy_from_slice(&5i32.to_le_bytes());
    let e = read(&old).unwrap_err();
    assert_eq!(e, TfliteError::TooOld(5));
    assert!(e.to_string().contains("0.6 or older"), "{e}");
}

#[test]
fn string_tensors_decode_their_first_string() {
    let mut b = Vec::new();
    for v in [2i32, 16, 18, 19] {
        b.extend(v.to_le_bytes());
    }
    b.extend(b"enx");
    assert_eq!(first_string(&b).unwrap(), b"en");
    for cut in 0..18 {
        assert!(first_string(&b[..cut]).is_err(), "{cut}");
    }
    b[4..8].copy_from_slice(&(-1i32).to_le_bytes());
    assert!(first_string(&b).is_err());
    b[0..4].copy_from_slice(&0i32.to_le_bytes());
    assert!(first_string(&b).is_err());
}

/// xorshift64*: a fixed pseudo-random sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn read_without_panic(bytes: &[u8], what: &str) {
    let result = std::panic::catch_unwind(|| read(bytes).map(|_| ()));
    assert!(result.is_ok(), "read panicked on {what}");
}

#[test]
fn truncations_and_corruptions_never_panic() {
    // int8 (hybrid FULLY_CONNECTED) and float16 (DEQUANTIZE ops): both ways to the weights.
    for name in ["ldc93s1-64.tflite", "ldc93s1-64-f16.tflite"] {
        truncate_and_corrupt(name, 4000);
    }
}

fn truncate_and_corrupt(name: &str, rounds: usize) {
    let real = fixture(name);
    let n = real.len();
    for cut in (0..1024).chain((1024..n).step_by(37)) {
        read_without_panic(&real[..cut], &format!("the first {cut} bytes of {name}"));
        assert!(read(&real[..cut]).is_err(), "{name}: {cut}");
    }
    // Half the flips land anywhere (mostly in weights, which stay a valid model), half in the
    // flatbuffer's structure: everything but the large buffers' data.
    let model = schema::parse(&real).unwrap();
    let mut in_data = vec![false; n];
    for data in model.buffers.iter().filter(|d| d.len() >= 256) {
        let start = data.as_ptr() as usize - real.as_ptr() as usize;
        in_data[start..start + data.len()].fill(true);
    }
    let structure: Vec<usize> = (0..n).filter(|&i| !in_data[i]).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut refused = 0;
    for round in 0..rounds {
        let mut bytes = real.clone();
        let flips = 1 + rng.below(4);
        let mut what = format!("{name}, round {round}:");
        for _ in 0..flips {
            let at = if rng.below(2) == 0 {
                rng.below(n)
            } else {
                structure[rng.below(structure.len())]
            };
            let mask = 1 + rng.below(255) as u8;
            bytes[at] ^= mask;
            what += &format!(" byte {at} ^= {mask:#04x}");
        }
        let result = std::panic::catch_unwind(|| read(&bytes).map(|_| ()));
        match result {
            Ok(r) => refused += usize::from(r.is_err()),
            Err(_) => panic!("read panicked on {what}"),
        }
    }
    eprintln!(
        "{name}: {refused} of {rounds} corrupted files refused ({} structural bytes of {n})",
        structure.len()
    );
    assert!(refused > rounds / 10);
}
