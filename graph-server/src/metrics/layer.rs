//! The `tracing` layer that reads graph-core's model-call and checkpoint-write spans into
//! the server's histograms: a model call's duration, time to first chunk and token counts
//! when its span closes, a checkpoint write's duration when its span closes.

use std::sync::Arc;
use std::time::Instant;

use stategraph_core::telemetry::names::{
    ERROR_TYPE, GEN_AI_PROVIDER_NAME, GEN_AI_REQUEST_MODEL, GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
    GEN_AI_USAGE_INPUT_TOKENS, GEN_AI_USAGE_OUTPUT_TOKENS, TARGET_CHAT, TARGET_CHECKPOINT,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::{Inner, ModelLabels, OperationLabels, TokenLabels};

/// Turns graph-core's spans into the histograms of a
/// [`ServerMetrics`](super::ServerMetrics); made by
/// [`ServerMetrics::layer`](super::ServerMetrics::layer). It looks at model-call and
/// checkpoint-write spans only, and at no event.
pub struct MetricsLayer {
    metrics: Arc<Inner>,
}

impl std::fmt::Debug for MetricsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsLayer").finish_non_exhaustive()
    }
}

impl MetricsLayer {
    pub(super) fn new(metrics: Arc<Inner>) -> Self {
        Self { metrics }
    }
}

/// What a model call's span has shown so far.
#[derive(Default)]
struct ModelCall {
    provider: String,
    model: String,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    time_to_first_chunk: Option<f64>,
    error_type: Option<String>,
}

impl Visit for ModelCall {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            GEN_AI_PROVIDER_NAME => value.clone_into(&mut self.provider),
            GEN_AI_REQUEST_MODEL => value.clone_into(&mut self.model),
            ERROR_TYPE => self.error_type = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match field.name() {
            GEN_AI_USAGE_INPUT_TOKENS => self.input_tokens = Some(value),
            GEN_AI_USAGE_OUTPUT_TOKENS => self.output_tokens = Some(value),
            _ => {}
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if field.name() == GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK {
            self.time_to_first_chunk = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

/// When a watched span opened, and what it showed.
enum Watched {
    ModelCall(Instant, ModelCall),
    CheckpointWrite(Instant),
}

fn watched(metadata: &Metadata<'_>) -> bool {
    matches!(metadata.target(), TARGET_CHAT | TARGET_CHECKPOINT)
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for MetricsLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let metadata = attrs.metadata();
        if !watched(metadata) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let watched = if metadata.target() == TARGET_CHAT {
            let mut call = ModelCall::default();
            attrs.record(&mut call);
            Watched::ModelCall(Instant::now(), call)
        } else {
            Watched::CheckpointWrite(Instant::now())
        };
        span.extensions_mut().insert(watched);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if !watched(span.metadata()) {
            return;
        }
        if let Some(Watched::ModelCall(_, call)) = span.extensions_mut().get_mut::<Watched>() {
            values.record(call);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        if !watched(span.metadata()) {
            return;
        }
        match span.extensions_mut().remove::<Watched>() {
            Some(Watched::ModelCall(started, call)) => self.model_call(started, call),
            Some(Watched::CheckpointWrite(started)) => self
                .metrics
                .checkpoint_write
                .observe(started.elapsed().as_secs_f64()),
            None => {}
        }
    }
}

impl MetricsLayer {
    fn model_call(&self, started: Instant, call: ModelCall) {
        let ModelCall {
            provider,
            model,
            input_tokens,
            output_tokens,
            time_to_first_chunk,
            error_type,
        } = call;
        for (kind, count) in [("input", input_tokens), ("output", output_tokens)] {
            if let Some(count) = count {
                let labels = TokenLabels {
                    gen_ai_token_type: kind,
                    gen_ai_provider_name: provider.clone(),
                    gen_ai_request_model: model.clone(),
                };
                // Token counts are far below 2^52: exact as `f64`.
                #[allow(clippy::cast_precision_loss)]
                let count = count as f64;
                self.metrics
                    .token_usage
                    .get_or_create(&labels)
                    .observe(count);
            }
        }
        if let Some(seconds) = time_to_first_chunk {
            let labels = ModelLabels {
                gen_ai_provider_name: provider.clone(),
                gen_ai_request_model: model.clone(),
            };
            self.metrics
                .time_to_first_chunk
                .get_or_create(&labels)
                .observe(seconds);
        }
        let labels = OperationLabels {
            gen_ai_provider_name: provider,
            gen_ai_request_model: model,
            error_type,
        };
        self.metrics
            .operation_duration
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    }
}
