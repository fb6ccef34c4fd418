//! BHTTP encoding round trips; padding maps lengths to buckets and frames events.

use plexus_privacy::message::{MessageError, Request, Response};
use plexus_privacy::padding::{
    BUCKETS, EVENT_FRAME_LEN, MAX_EVENT_LEN, MAX_RESPONSE_BUCKET, MIN_STREAM_TICKS, PaddingError,
    StreamFrame, bucket_for, end_frame, frame_event, pad_response, pad_to_bucket,
    response_bucket_for, stream_ticks_bucket, unframe_event, unframe_stream,
};
use proptest::prelude::*;

#[test]
fn lengths_map_to_the_documented_buckets() {
    assert_eq!(BUCKETS, [4096, 16384, 65536, 262_144]);
    assert_eq!(bucket_for(0), Some(4096));
    assert_eq!(bucket_for(4096), Some(4096));
    assert_eq!(bucket_for(4097), Some(16384));
    assert_eq!(bucket_for(262_144), Some(262_144));
    assert_eq!(bucket_for(262_145), None);
    assert_eq!(
        pad_to_bucket(vec![1; 262_145]),
        Err(PaddingError::TooLarge(262_145))
    );
}

#[test]
fn responses_of_any_size_are_padded_to_a_bucket() {
    assert_eq!(response_bucket_for(100), Some(4096));
    assert_eq!(response_bucket_for(262_144), Some(262_144));
    assert_eq!(response_bucket_for(262_145), Some(512 << 10));
    assert_eq!(response_bucket_for(600 << 10), Some(1 << 20));
    assert_eq!(response_bucket_for(MAX_RESPONSE_BUCKET), Some(4 << 20));
    assert_eq!(response_bucket_for(MAX_RESPONSE_BUCKET + 1), None);
    for len in [300_000, 400_000, 524_288] {
        assert_eq!(pad_response(vec![1; len]).unwrap().len(), 512 << 10);
    }
    assert_eq!(
        pad_response(vec![1; MAX_RESPONSE_BUCKET + 1]),
        Err(PaddingError::TooLarge(MAX_RESPONSE_BUCKET + 1))
    );
}

#[test]
fn a_stream_lasts_a_power_of_two_ticks_and_ends_with_an_end_frame() {
    assert_eq!(stream_ticks_bucket(1), MIN_STREAM_TICKS);
    assert_eq!(stream_ticks_bucket(32), 32);
    assert_eq!(stream_ticks_bucket(33), 64);
    assert_eq!(stream_ticks_bucket(1000), 1024);
    let end = end_frame();
    assert_eq!(end.len(), EVENT_FRAME_LEN);
    assert_eq!(unframe_stream(&end), Ok(StreamFrame::End));
    assert_eq!(
        unframe_stream(&frame_event(b"data").unwrap()),
        Ok(StreamFrame::Data(b"data"))
    );
    assert_eq!(
        unframe_stream(&frame_event(b"").unwrap()),
        Ok(StreamFrame::Data(b""))
    );
    let mut bad = end;
    bad[9] = 1;
    assert_eq!(unframe_stream(&bad), Err(PaddingError::NonZeroPadding));
}

#[test]
fn non_zero_bytes_after_a_message_are_refused() {
    let r = Response {
        status: 204,
        headers: vec![],
        body: vec![],
    };
    let mut bytes = pad_to_bucket(r.encode().unwrap()).unwrap();
    assert_eq!(Response::decode(&bytes).unwrap(), r);
    let last = bytes.len() - 1;
    bytes[last] = 1;
    assert!(matches!(
        Response::decode(&bytes),
        Err(MessageError::TrailingData)
    ));
}

#[test]
fn a_response_is_not_read_as_a_request() {
    let r = Response {
        status: 200,
        headers: vec![],
        body: vec![],
    };
    assert!(matches!(
        Request::decode(&r.encode().unwrap()),
        Err(MessageError::WrongKind)
    ));
}

#[test]
fn events_fit_fixed_frames() {
    let frame = frame_event(b"data: {}\n\n").unwrap();
    assert_eq!(frame.len(), EVENT_FRAME_LEN);
    assert_eq!(unframe_event(&frame).unwrap(), b"data: {}\n\n");
    assert_eq!(
        frame_event(&[0; MAX_EVENT_LEN + 1]),
        Err(PaddingError::EventTooLarge(MAX_EVENT_LEN + 1))
    );
    let mut bad = frame.clone();
    bad[0] = 0xff;
    assert_eq!(unframe_event(&bad), Err(PaddingError::MalformedFrame));
    assert_eq!(
        unframe_event(&frame[1..]),
        Err(PaddingError::MalformedFrame)
    );
}

proptest! {
    #[test]
    fn any_request_round_trips_padded(
        method in "[A-Z]{1,8}",
        headers in proptest::collection::vec(("[a-z][a-z-]{0,15}", proptest::collection::vec(32u8..127, 0..40)), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..5000),
    ) {
        let r = Request {
            method: method.into_bytes(),
            scheme: b"https".to_vec(),
            authority: b"a.example".to_vec(),
            path: b"/".to_vec(),
            headers: headers.into_iter().map(|(n, v)| (n.into_bytes(), v)).collect(),
            body,
        };
        let padded = pad_to_bucket(r.encode().unwrap()).unwrap();
        prop_assert!(BUCKETS.contains(&padded.len()));
        prop_assert_eq!(Request::decode(&padded).unwrap(), r);
    }

    #[test]
    fn any_event_round_trips_in_a_frame(event in proptest::collection::vec(any::<u8>(), 0..=MAX_EVENT_LEN)) {
        let frame = frame_event(&event).unwrap();
        prop_assert_eq!(unframe_event(&frame).unwrap(), event.as_slice());
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Request::decode(&bytes);
        let _ = Response::decode(&bytes);
    }
}
