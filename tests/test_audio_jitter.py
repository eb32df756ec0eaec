from rtt.audio.jitter import JitterBuffer


def test_in_order_packets_pass_straight_through() -> None:
    jb = JitterBuffer(max_delay=3)
    assert [jb.push(i, bytes([i])) for i in range(3)] == [[b"\x00"], [b"\x01"], [b"\x02"]]


def test_reorders_by_seq() -> None:
    jb = JitterBuffer(max_delay=3)
    out = []
    for seq in (0, 2, 1, 4, 3):
        out += jb.push(seq, bytes([seq]))
    assert out == [bytes([i]) for i in range(5)]


def test_drops_duplicates_and_late_packets() -> None:
    jb = JitterBuffer(max_delay=3)
    out = jb.push(0, b"a") + jb.push(2, b"c") + jb.push(2, b"c") + jb.push(1, b"b") + jb.push(1, b"b")
    assert out == [b"a", b"b", b"c"]
    assert jb.stats.duplicates == 1 and jb.stats.late == 1


def test_gives_up_on_a_missing_packet_after_max_delay() -> None:
    jb = JitterBuffer(max_delay=2)
    out = jb.push(0, b"0")
    for seq in (2, 3, 4):  # 1 never comes
        out += jb.push(seq, str(seq).encode())
    assert out == [b"0", b"2", b"3", b"4"]
    assert jb.stats.lost == 1
    assert jb.push(1, b"1") == []  # arrived after its slot was skipped


def test_flush_releases_everything_in_order() -> None:
    jb = JitterBuffer(max_delay=10)
    for seq in (5, 7, 6, 9):
        jb.push(seq, str(seq).encode())
    assert jb.flush() == [b"9"]  # 5, 6, 7 were released already; 8 is skipped
    jb2 = JitterBuffer(max_delay=10, first_seq=0)
    for seq in (3, 1):
        jb2.push(seq, str(seq).encode())
    assert jb2.flush() == [b"1", b"3"]
    assert jb2.stats.lost == 2
