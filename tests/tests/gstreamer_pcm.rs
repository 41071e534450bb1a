//! GStreamer hands the element raw PCM; the front-end must read it exactly as it reads the
//! same recording from a WAV file.

use deepspeech_core::audio::{RawFormat, downmix_bytes_into, read_wav};
use deepspeech_integration_tests::{gst_launch, shared_data, temp_dir};

#[test]
fn raw_pcm_from_a_gstreamer_pipeline_equals_the_wav_reader() {
    let wav = shared_data().join("ldc93s1/LDC93S1_pcms16le_2_44100.wav");
    let (from_wav, info) = read_wav(&wav).unwrap();
    let dir = temp_dir("pcm");
    for (caps, format) in [
        ("audio/x-raw,format=F32LE", RawFormat::F32LE),
        ("audio/x-raw,format=S16LE", RawFormat::S16LE),
        ("audio/x-raw,format=S32LE", RawFormat::S32LE),
    ] {
        let raw = dir.join("out.raw");
        let location = format!("location={}", wav.display());
        let sink = format!("location={}", raw.display());
        gst_launch(&[
            "filesrc",
            &location,
            "!",
            "wavparse",
            "!",
            "audioconvert",
            "dithering=none",
            "noise-shaping=none",
            "!",
            caps,
            "!",
            "filesink",
            &sink,
        ]);
        let bytes = std::fs::read(&raw).unwrap();
        let mut from_gst = Vec::new();
        downmix_bytes_into(&bytes, format, usize::from(info.channels), &mut from_gst).unwrap();
        assert_eq!(from_gst.len(), from_wav.samples.len(), "{format:?}");
        assert_eq!(from_gst, from_wav.samples, "{format:?}: samples differ");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
