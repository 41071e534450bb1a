//! Utterance segmentation by energy: 10 ms frames whose level (dBFS, the mean square of the
//! samples in decibels relative to full scale) reaches the threshold are speech; an utterance
//! starts at the first speech frame and ends after `silence_ms` of consecutive quiet frames, or
//! when it reaches `max_utterance_ms`. A short pre-roll before the first speech frame is kept so
//! that soft onsets are not clipped.

/// Segmentation settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// Level (dBFS) at or above which a 10 ms frame counts as speech.
    pub threshold_db: f64,
    /// Quiet time that ends an utterance (ms).
    pub silence_ms: u32,
    /// Longest utterance (ms); longer speech is cut into several.
    pub max_utterance_ms: u32,
    /// Audio kept before the first speech frame (ms).
    pub preroll_ms: u32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            threshold_db: -50.0,
            silence_ms: 800,
            max_utterance_ms: 10_000,
            preroll_ms: 200,
        }
    }
}

/// What happened in the audio just pushed, in samples from the start of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VadEvent {
    /// Speech begins; the utterance starts at this sample (pre-roll included).
    Start(u64),
    /// The utterance ends at this sample (exclusive), after silence or at the length limit.
    End(u64),
}

/// The segmenter's state over one stream of mono samples at a fixed rate.
#[derive(Debug, Clone)]
pub struct Vad {
    config: VadConfig,
    frame: usize,
    threshold: f64,
    acc: f64,
    in_frame: usize,
    position: u64,
    utterance: Option<(u64, u64)>,
    quiet_frames: u32,
}

impl Vad {
    /// A segmenter for mono audio at `rate` Hz.
    pub fn new(rate: u32, config: VadConfig) -> Self {
        Self {
            frame: (rate as usize / 100).max(1),
            threshold: 10f64.powf(config.threshold_db / 10.0),
            config,
            acc: 0.0,
            in_frame: 0,
            position: 0,
            utterance: None,
            quiet_frames: 0,
        }
    }

    /// Whether an utterance is in progress.
    pub fn in_utterance(&self) -> bool {
        self.utterance.is_some()
    }

    /// Samples seen so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Samples of pre-roll.
    pub fn preroll_samples(&self) -> u64 {
        self.config.preroll_ms as u64 * self.frame as u64 / 10
    }

    /// Pushes mono samples; events are appended in order, each at a 10 ms frame boundary.
    pub fn push(&mut self, samples: &[f32], events: &mut Vec<VadEvent>) {
        let frames_per_ms = self.frame as u64 / 10;
        for &s in samples {
            self.acc += f64::from(s) * f64::from(s);
            self.in_frame += 1;
            self.position += 1;
            if self.in_frame < self.frame {
                continue;
            }
            let speech = self.acc / self.frame as f64 >= self.threshold;
            self.acc = 0.0;
            self.in_frame = 0;
            let end_of_frame = self.position;
            match self.utterance {
                None if speech => {
                    let start =
                        (end_of_frame - self.frame as u64).saturating_sub(self.preroll_samples());
                    self.utterance = Some((start, end_of_frame));
                    self.quiet_frames = 0;
                    events.push(VadEvent::Start(start));
                }
                None => {}
                Some((start, _)) => {
                    if speech {
                        self.quiet_frames = 0;
                        self.utterance = Some((start, end_of_frame));
                    } else {
                        self.quiet_frames += 1;
                    }
                    let quiet_ms = self.quiet_frames * 10;
                    let length_ms = (end_of_frame - start) / frames_per_ms.max(1);
                    if quiet_ms >= self.config.silence_ms
                        || length_ms >= u64::from(self.config.max_utterance_ms)
                    {
                        self.utterance = None;
                        events.push(VadEvent::End(end_of_frame));
                    }
                }
            }
        }
    }

    /// Ends the stream: an utterance in progress ends at the last sample.
    pub fn finish(&mut self, events: &mut Vec<VadEvent>) {
        if self.utterance.take().is_some() {
            events.push(VadEvent::End(self.position));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(ms: usize, amplitude: f32) -> Vec<f32> {
        (0..ms * 16)
            .map(|i| (i as f32 * 0.1).sin() * amplitude)
            .collect()
    }

    #[test]
    fn speech_between_silences_is_one_utterance_with_preroll() {
        let mut vad = Vad::new(16_000, VadConfig::default());
        let mut audio = vec![0.0; 16 * 1000];
        audio.extend(tone(1500, 0.1));
        audio.extend(vec![0.0; 16 * 2000]);
        let mut events = Vec::new();
        vad.push(&audio, &mut events);
        assert_eq!(
            events,
            vec![VadEvent::Start(16 * 800), VadEvent::End(16 * (2500 + 800))]
        );
        assert!(!vad.in_utterance());
    }

    #[test]
    fn short_pauses_do_not_split_and_long_speech_is_cut() {
        let config = VadConfig {
            max_utterance_ms: 3000,
            ..Default::default()
        };
        let mut vad = Vad::new(8000, config);
        let mut audio = tone(1000, 0.2);
        audio.extend(vec![0.0; 8 * 300 * 2]); // 300 ms pause at 8 kHz (tone() is 16 samples/ms)
        audio.extend(tone(4000, 0.2));
        let mut events = Vec::new();
        vad.push(&audio, &mut events);
        // One start; the length limit (3 s at 8 kHz = 24000 samples) cuts, then speech restarts.
        assert_eq!(events[0], VadEvent::Start(0));
        assert_eq!(events[1], VadEvent::End(24_000));
        assert!(matches!(events[2], VadEvent::Start(_)));
        vad.finish(&mut events);
        assert_eq!(events.last(), Some(&VadEvent::End(audio.len() as u64)));
    }

    #[test]
    fn quiet_noise_below_the_threshold_is_not_speech() {
        let mut vad = Vad::new(16_000, VadConfig::default());
        let mut events = Vec::new();
        vad.push(&tone(2000, 0.001), &mut events); // about -63 dBFS
        vad.finish(&mut events);
        assert!(events.is_empty());
    }
}
