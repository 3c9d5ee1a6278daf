//! A gRPC codec that sends already-encoded protobuf.
//!
//! A payload received over OTLP keeps its wire bytes ([`Payload::encoded`]), and every
//! exporter of a fanout shares them; sending those bytes as they are saves decoding's
//! mirror image, a full re-encode, on every export. Responses are small and are decoded
//! with prost as usual.
//!
//! [`Payload::encoded`]: tributary_pipeline_core::pdata::Payload::encoded

use std::marker::PhantomData;

use bytes::{BufMut, Bytes};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Encodes [`Bytes`] verbatim, decodes responses of type `R`.
pub(crate) struct PreEncoded<R>(PhantomData<fn() -> R>);

impl<R> Default for PreEncoded<R> {
    fn default() -> Self {
        PreEncoded(PhantomData)
    }
}

impl<R: prost::Message + Default + Send + 'static> Codec for PreEncoded<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = BytesEncoder;
    type Decoder = MessageDecoder<R>;

    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> MessageDecoder<R> {
        MessageDecoder(PhantomData)
    }
}

/// Writes the request's bytes into tonic's frame buffer.
pub(crate) struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.reserve(item.len());
        dst.put_slice(&item);
        Ok(())
    }
}

/// Decodes a response message.
pub(crate) struct MessageDecoder<R>(PhantomData<fn() -> R>);

impl<R: prost::Message + Default> Decoder for MessageDecoder<R> {
    type Item = R;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<R>, Status> {
        R::decode(src)
            .map(Some)
            .map_err(|e| Status::internal(format!("invalid response message: {e}")))
    }
}
