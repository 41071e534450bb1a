//! The streaming engine: chunked feeding (down to one sample) equals a whole-file run; many
//! streams on one shared model from 8 threads equal each run alone; buffers stay bounded.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use candle::{D, Device, Tensor};
use deepspeech_core::Alphabet;
use deepspeech_core::audio::{load_wav_16k, read_wav};
use deepspeech_core::engine::{Model, Transcript};
use deepspeech_core::features::MfccExtractor;
use deepspeech_core::train::{TrainOptions, run};

const SENTENCE: &str = "she had your dark suit in greasy wash water all year";

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// A model trained here on LDC93S1 until it transcribes it exactly (the seed's smoke test).
fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = std::env::temp_dir().join(format!("ds-stream-model-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let csv = shared("ldc93s1/ldc93s1.csv");
            let mut o = TrainOptions::new(Alphabet::english());
            o.train_files = vec![csv];
            o.n_hidden = 100;
            o.epochs = 250;
            o.dropout_rate = 0.0;
            o.es_epochs = 0;
            o.export_dir = Some(dir.clone());
            o.progress = false;
            let summary = run(&o).unwrap();
            let model = Model::load(summary.exported.unwrap()).unwrap();
            std::fs::remove_dir_all(dir).unwrap();
            Arc::new(model)
        })
        .clone()
}

/// Log-probabilities of a whole file in one forward pass, the reference for streaming (framed
/// as DeepSpeech's runtime frames an utterance: whole windows, then the zero-padded rest).
fn whole_file_log_probs(model: &Model, wav: &Path) -> Vec<f32> {
    let (samples, _) = load_wav_16k(wav).unwrap();
    let features = &model.config().features;
    let x = MfccExtractor::new(features.clone())
        .compute_utterance(&samples)
        .with_context(features.n_context);
    let x = Tensor::from_vec(x.data, (x.frames, 1, x.width), &Device::Cpu).unwrap();
    let logits = model.network().forward(&x, None).unwrap();
    candle_nn::ops::log_softmax(&logits, D::Minus1)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// Deterministic chunk sizes from 1 sample to a few thousand.
fn chunk_sizes(seed: u64) -> impl Iterator<Item = usize> {
    let mut state = seed;
    std::iter::from_fn(move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let r = (state >> 33) as usize;
        Some(match r % 4 {
            0 => 1,
            1 => 1 + r % 17,
            2 => 1 + r % 700,
            _ => 1 + r % 5000,
        })
    })
}

/// Streams a file in deterministic random chunks; returns the transcript and log-probs.
fn stream_file(model: &Arc<Model>, wav: &Path, seed: u64) -> (Transcript, Vec<f32>) {
    let (audio, info) = read_wav(wav).unwrap();
    let mut stream = model.create_stream();
    let mut rest = &audio.samples[..];
    let mut fed = 0;
    for size in chunk_sizes(seed) {
        if rest.is_empty() {
            break;
        }
        let n = size.min(rest.len());
        stream.feed_audio(&rest[..n], info.sample_rate, 1).unwrap();
        rest = &rest[n..];
        fed += n;
        let long = audio.samples.len() as u32 > info.sample_rate;
        if long && fed > audio.samples.len() / 2 && fed - n <= audio.samples.len() / 2 {
            // Halfway: a partial result exists and costs no re-run of the model.
            let frames = stream.log_probs().len();
            assert!(frames > 0, "the model runs while audio arrives");
            let _partial = stream.intermediate_decode().unwrap();
            assert_eq!(stream.log_probs().len(), frames);
        }
    }
    stream.finish_with_log_probs().unwrap()
}

#[test]
fn streaming_in_random_chunks_equals_the_whole_file() {
    let model = model();
    for (file, seed) in [
        ("ldc93s1/LDC93S1.wav", 1),
        ("ldc93s1/LDC93S1_pcms16le_2_44100.wav", 2),
        ("ldc93s1/LDC93S1_pcms16le_1_8000.wav", 3),
    ] {
        let wav = shared(file);
        let reference = whole_file_log_probs(&model, &wav);
        let (streamed, log_probs) = stream_file(&model, &wav, seed);
        assert_eq!(log_probs.len(), reference.len(), "{file}: frame count");
        let worst = reference
            .iter()
            .zip(&log_probs)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        println!("{file}: streamed vs offline max |Δ log-prob| = {worst:e}");
        assert!(worst <= 1e-5, "{file}: {worst}");
        let (audio, info) = read_wav(&wav).unwrap();
        let whole = model
            .transcribe(&audio.samples, info.sample_rate, 1)
            .unwrap();
        assert_eq!(streamed, whole, "{file}");
    }
    let (t, _) = stream_file(&model, &shared("ldc93s1/LDC93S1.wav"), 7);
    assert_eq!(t.text, SENTENCE);
    assert_eq!(t.words.len(), 11);
    for pair in t.words.windows(2) {
        assert!(
            pair[0].start + pair[0].duration <= pair[1].start + 1e-9,
            "{:?}",
            pair
        );
    }
    assert!(
        t.words
            .iter()
            .all(|w| w.duration > 0.0 && w.start >= 0.0 && w.start + w.duration <= 2.93)
    );
}

#[test]
fn eight_threads_on_one_model_each_get_what_they_get_alone() {
    let model = model();
    let files = [
        "ldc93s1/LDC93S1.wav",
        "ldc93s1/LDC93S1_pcms16le_2_44100.wav",
        "ldc93s1/LDC93S1_pcms16le_1_8000.wav",
        "fsdd/recordings/7_george_3.wav",
    ];
    let alone: Vec<Transcript> = files
        .iter()
        .map(|f| stream_file(&model, &shared(f), 99).0)
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let model = Arc::clone(&model);
                let file = files[i % files.len()];
                scope.spawn(move || (i, stream_file(&model, &shared(file), 1000 + i as u64).0))
            })
            .collect();
        for h in handles {
            let (i, t) = h.join().unwrap();
            assert_eq!(
                t,
                alone[i % files.len()],
                "thread {i} on {}",
                files[i % files.len()]
            );
        }
    });
}

/// Whether silence decodes to nothing is a property of a model trained on varied speech (the
/// default model's tests check it); this one has heard a single sentence. What the engine
/// guarantees is checked here: two minutes of audio pass through bounded buffers.
#[test]
fn buffers_stay_bounded_over_a_long_stream() {
    let model = model();
    let mut stream = model.create_stream();
    let chunk = vec![0.0f32; 4410];
    let mut worst = (0, 0, 0);
    // Two minutes of 44.1 kHz stereo digital silence in 50 ms chunks.
    for _ in 0..2400 {
        stream.feed_audio(&chunk, 44_100, 2).unwrap();
        let b = stream.buffered();
        worst = (worst.0.max(b.0), worst.1.max(b.1), worst.2.max(b.2));
    }
    assert!(
        worst.0 < 4096 && worst.1 <= 40 && worst.2 <= 494 * 16,
        "buffers grew: {worst:?}"
    );
    let (_, log_probs) = stream.finish_with_log_probs().unwrap();
    assert_eq!(
        log_probs.len() / 29,
        (120 * 16_000 - 512) / 320 + 2,
        "one frame per 20 ms, and the zero-padded rest as DeepSpeech's runtime makes it"
    );
}

#[test]
fn non_finite_audio_is_refused_and_the_stream_goes_on() {
    let model = model();
    let (audio, info) = read_wav(shared("ldc93s1/LDC93S1.wav")).unwrap();
    let (first, rest) = audio.samples.split_at(audio.samples.len() / 2);
    let mut stream = model.create_stream();
    stream.feed_audio(first, info.sample_rate, 1).unwrap();
    let mut bad = rest[..1000].to_vec();
    bad[7] = f32::NAN;
    let e = stream
        .feed_audio(&bad, info.sample_rate, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("sample 7 of this chunk is NaN"), "{e}");
    let e = stream
        .feed_audio(&[f32::INFINITY], info.sample_rate, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("inf"), "{e}");
    // Nothing of the refused chunks was kept: the rest gives the whole sentence.
    stream.feed_audio(rest, info.sample_rate, 1).unwrap();
    assert_eq!(stream.finish().unwrap().text, SENTENCE);
}

#[test]
fn a_rate_change_within_a_stream_is_an_error() {
    let model = model();
    let mut stream = model.create_stream();
    stream.feed_audio(&[0.0; 100], 16_000, 1).unwrap();
    let e = stream
        .feed_audio(&[0.0; 100], 8000, 1)
        .unwrap_err()
        .to_string();
    assert!(e.contains("changed from 16000 Hz to 8000 Hz"), "{e}");
    let e = model
        .create_stream()
        .feed_audio(&[0.0; 3], 16_000, 2)
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not divide into 2 channels"), "{e}");
}
