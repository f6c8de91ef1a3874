/* SPDX-License-Identifier: MIT */
/* test_base.c - buf, arena, str, rng, sha256 and path helpers. */
#include <math.h>
#include <unistd.h>
#include "unit.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/map.h"
#include "base/rng.h"
#include "base/sha256.h"
#include "base/str.h"

TEST(buf_grows_and_formats)
{
    cn_buf b = CN_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        cn_buf_printf(&b, "%d,", i);
    CHECK(b.len == 3890);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    cn_buf_release(&b);
    CHECK(b.data == NULL);
}

TEST(arena_strings)
{
    cn_arena *a = cn_arena_new();
    char *s = cn_arena_printf(a, "%s-%d", "x", 42);
    CHECK_STR(s, "x-42");
    for (int i = 0; i < 10000; i++)
        CHECK(cn_arena_alloc(a, 100) != NULL);
    cn_arena_free(a);
}

TEST(double_round_trip)
{
    double vals[] = {0.1, 1e300, -2.5e-310, 3.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char text[64];
        double back;
        cn_format_double(vals[i], text, sizeof text);
        CHECK(cn_parse_double(text, &back));
        if (isnan(vals[i]))
            CHECK(isnan(back));
        else
            CHECK(back == vals[i]);
    }
    double d;
    CHECK(!cn_parse_double("1.5x", &d));
    CHECK(!cn_parse_double("", &d));
    int64_t v;
    CHECK(cn_parse_int64("-42", &v) && v == -42);
    CHECK(!cn_parse_int64("99999999999999999999", &v));
}

TEST(rng_is_seeded)
{
    cn_rng a, b;
    cn_rng_seed(&a, 7);
    cn_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++)
        CHECK(cn_rng_u64(&a) == cn_rng_u64(&b));
    double sum = 0;
    for (int i = 0; i < 10000; i++) {
        double u = cn_rng_uniform(&a);
        CHECK(u >= 0 && u < 1);
        sum += u;
    }
    CHECK_NEAR(sum / 10000, 0.5, 0.02);
}

TEST(sha256_known_answer)
{
    char hex[65];
    cn_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(safe_relative_paths)
{
    CHECK(cn_path_is_safe_relative("a/b.txt"));
    CHECK(cn_path_is_safe_relative("plots/loss curve.svg"));
    CHECK(!cn_path_is_safe_relative("../x"));
    CHECK(!cn_path_is_safe_relative("a/../../x"));
    CHECK(!cn_path_is_safe_relative("/etc/passwd"));
    CHECK(!cn_path_is_safe_relative("a//b"));
    CHECK(!cn_path_is_safe_relative("a/./b"));
    CHECK(!cn_path_is_safe_relative(""));
    CHECK(!cn_path_is_safe_relative("a\\..\\b"));
}

TEST(arena_grow_keeps_items)
{
    cn_arena *a = cn_arena_new();
    int *items = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        items = cn_arena_grow(a, items, n, &cap, sizeof *items);
        items[n++] = i;
    }
    CHECK(cap >= 1000);
    for (int i = 0; i < 1000; i++)
        CHECK(items[i] == i);
    cn_arena_free(a);
}

TEST(str_in_list)
{
    static const char *const list[] = {"eta", "max_depth", NULL};
    CHECK(cn_str_in("eta", list));
    CHECK(!cn_str_in("et", list));
    CHECK(!cn_str_in("seed", list));
}

static int count_bytes(void *user, const void *p, size_t n)
{
    (void)p;
    *(size_t *)user += n;
    return 0;
}

TEST(sha256_stream_matches_one_shot_and_file)
{
    cn_sha256_stream *s = cn_sha256_stream_new();
    char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    for (size_t off = 0; off < sizeof big; off += 777)
        cn_sha256_stream_bytes(s, big + off, off + 777 <= sizeof big ? 777 : sizeof big - off);
    char a[65], b[65], c[65];
    cn_sha256_stream_final(s, a);
    cn_sha256_hex(big, sizeof big, b);
    CHECK_STR(a, b);
    char path[] = "/tmp/cairn-test-base-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && write(fd, big, sizeof big) == (ssize_t)sizeof big);
    int64_t size = 0;
    CHECK(cn_sha256_file(path, c, &size) == 0 && size == (int64_t)sizeof big);
    CHECK_STR(c, b);
    size_t total = 0;
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && cn_fs_read_fd(fd, count_bytes, &total) == 0);
    CHECK(total == sizeof big);
    close(fd);
    unlink(path);
}

TEST(map_puts_gets_and_grows)
{
    cn_map m = CN_MAP_INIT;
    size_t v = 99;
    CHECK(!cn_map_get(&m, "a", 1, &v));
    static char keys[20000][8];
    for (size_t i = 0; i < 20000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%zu", i);
        CHECK(cn_map_put(&m, keys[i], strlen(keys[i]), i));
    }
    CHECK(m.len == 20000);
    for (size_t i = 0; i < 20000; i += 997) {
        CHECK(cn_map_get(&m, keys[i], strlen(keys[i]), &v));
        CHECK(v == i);
    }
    CHECK(!cn_map_get(&m, "k20000", 6, &v));
    CHECK(!cn_map_put(&m, "k7", 2, 70)); /* replaces */
    CHECK(cn_map_get(&m, "k7", 2, &v) && v == 70);
    CHECK(!cn_map_add(&m, "k8", 2, 80, &v)); /* keeps the first */
    CHECK(v == 8);
    CHECK(cn_map_get(&m, "k8x", 2, &v) && v == 8); /* only len bytes count */
    cn_map_release(&m);
    CHECK(m.slots == NULL && m.len == 0);
}

UNIT_MAIN(UNIT_CASE(map_puts_gets_and_grows), UNIT_CASE(arena_grow_keeps_items),
          UNIT_CASE(str_in_list), UNIT_CASE(sha256_stream_matches_one_shot_and_file),
          UNIT_CASE(buf_grows_and_formats), UNIT_CASE(arena_strings), UNIT_CASE(double_round_trip),
          UNIT_CASE(rng_is_seeded), UNIT_CASE(sha256_known_answer), UNIT_CASE(safe_relative_paths))
