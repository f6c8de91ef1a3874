/* SPDX-License-Identifier: MIT */
/* test_jsonw.c - the CLI's JSON writer: layout, escaping, invalid UTF-8, numbers, FILE output. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include "unit.h"
#include "base/jsonw.h"
#include "base/rng.h"
#include "base/banned.h"

static const char *quoted(const char *s, size_t len)
{
    static cn_buf b = CN_BUF_INIT;
    cn_buf_clear(&b);
    cn_json_quote(&b, s, len);
    return cn_buf_str(&b);
}

#define Q(lit) quoted(lit, sizeof(lit) - 1)

TEST(writes_compact_nested_document)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "run_id", "abc");
    cn_jsonw_kint(&w, "start_time", 1700000000123);
    cn_jsonw_key(&w, "params");
    cn_jsonw_object_begin(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_key(&w, "inputs");
    cn_jsonw_array_begin(&w);
    cn_jsonw_int(&w, 1);
    cn_jsonw_null(&w);
    cn_jsonw_bool(&w, true);
    cn_jsonw_array_begin(&w);
    cn_jsonw_array_end(&w);
    cn_jsonw_array_end(&w);
    cn_jsonw_kstring(&w, "none", NULL);
    cn_jsonw_kbool(&w, "deleted", false);
    cn_jsonw_object_end(&w);
    CHECK(cn_jsonw_finish(&w));
    CHECK_STR(cn_buf_str(&w.buf), "{\"run_id\":\"abc\",\"start_time\":1700000000123,\"params\":{},"
                                  "\"inputs\":[1,null,true,[]],\"none\":null,\"deleted\":false}\n");
    cn_jsonw_release(&w);
}

TEST(indents_nested_document)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 2);
    cn_jsonw_array_begin(&w);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kdouble(&w, "x", 0.5);
    cn_jsonw_key(&w, "e");
    cn_jsonw_object_begin(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_string(&w, "s");
    cn_jsonw_array_end(&w);
    CHECK(cn_jsonw_finish(&w));
    CHECK_STR(cn_buf_str(&w.buf), "[\n  {\n    \"x\": 0.5,\n    \"e\": {}\n  },\n  \"s\"\n]\n");
    cn_jsonw_release(&w);
}

TEST(escapes_quotes_backslashes_and_control_characters)
{
    CHECK_STR(Q("a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
    CHECK_STR(Q("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
    CHECK_STR(Q("\x01\x1f x\x7f"), "\"\\u0001\\u001f x\x7f\"");
    CHECK_STR(Q("nul\0byte"), "\"nul\\u0000byte\"");
    CHECK_STR(Q(""), "\"\"");
}

TEST(keeps_valid_utf8)
{
    CHECK_STR(Q("h\xC3\xA9llo"), "\"h\xC3\xA9llo\"");         /* é */
    CHECK_STR(Q("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");         /* € */
    CHECK_STR(Q("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\""); /* U+1F600 */
    CHECK_STR(Q("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\""); /* U+10FFFF */
    CHECK_STR(Q("\xED\x9F\xBF"), "\"\xED\x9F\xBF\"");         /* U+D7FF */
}

TEST(replaces_invalid_utf8)
{
#define FFFD "\xEF\xBF\xBD"
    CHECK_STR(Q("a\xFF"
                "b"),
              "\"a" FFFD "b\"");
    CHECK_STR(Q("\x80"), "\"" FFFD "\"");                            /* lone continuation */
    CHECK_STR(Q("\xC3"), "\"" FFFD "\"");                            /* truncated at the end */
    CHECK_STR(Q("\xC3(x"), "\"" FFFD "(x\"");                        /* bad continuation */
    CHECK_STR(Q("\xC0\xAF"), "\"" FFFD FFFD "\"");                   /* overlong '/' */
    CHECK_STR(Q("\xE0\x80\xAF"), "\"" FFFD FFFD FFFD "\"");          /* overlong, 3 bytes */
    CHECK_STR(Q("\xED\xA0\x80"), "\"" FFFD FFFD FFFD "\"");          /* surrogate D800 */
    CHECK_STR(Q("\xF4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\""); /* above U+10FFFF */
    CHECK_STR(Q("\xE2\x82z"), "\"" FFFD "z\"");   /* maximal subpart is 2 bytes */
    CHECK_STR(Q("\xF0\x9F\x98"), "\"" FFFD "\""); /* truncated 4-byte */
#undef FFFD
}

static const char *dbl(double v)
{
    static char text[32];
    cn_json_format_double(v, text, sizeof text);
    return text;
}

TEST(formats_doubles_shortest_and_as_floats)
{
    CHECK_STR(dbl(0.1), "0.1");
    CHECK_STR(dbl(1.0), "1.0");
    CHECK_STR(dbl(-0.0), "-0.0");
    CHECK_STR(dbl(0.0), "0.0");
    CHECK_STR(dbl(1e300), "1e+300");
    CHECK_STR(dbl(123456789.0), "123456789.0");
    CHECK_STR(dbl(1.0 / 3.0), "0.3333333333333333");
    CHECK_STR(dbl(5e-324), "4.94065645841247e-324");
    CHECK_STR(dbl(DBL_MAX), "1.7976931348623157e+308");
}

TEST(doubles_round_trip)
{
    cn_rng rng;
    cn_rng_seed(&rng, 42);
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = cn_rng_u64(&rng);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        const char *text = dbl(v);
        double back = strtod(text, NULL);
        if (memcmp(&back, &v, sizeof v) != 0) {
            CHECK(!"round trip");
            fprintf(stderr, "# %s\n", text);
            break;
        }
    }
}

TEST(writes_non_finite_as_mlflow_strings)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 0);
    cn_jsonw_array_begin(&w);
    cn_jsonw_double(&w, NAN);
    cn_jsonw_double(&w, INFINITY);
    cn_jsonw_double(&w, -INFINITY);
    cn_jsonw_int(&w, INT64_MIN);
    cn_jsonw_int(&w, INT64_MAX);
    cn_jsonw_array_end(&w);
    CHECK(cn_jsonw_finish(&w));
    CHECK_STR(cn_buf_str(&w.buf), "[\"NaN\",\"Infinity\",\"-Infinity\",-9223372036854775808,"
                                  "9223372036854775807]\n");
    cn_jsonw_release(&w);
}

/* Absent numbers are null; uint64 keeps its range; flat containers go on one line. */
TEST(writes_absent_numbers_as_null_and_flat_containers)
{
    cn_jsonw w;
    cn_jsonw_init(&w, NULL, 1);
    w.flat_from = 3;
    cn_jsonw_object_begin(&w);
    cn_jsonw_key(&w, "a");
    cn_jsonw_flat(&w);
    cn_jsonw_array_begin(&w);
    cn_jsonw_double_or_null(&w, NAN);
    cn_jsonw_double_or_null(&w, 2.0);
    cn_jsonw_uint(&w, UINT64_MAX);
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "m");
    cn_jsonw_object_begin(&w);
    cn_jsonw_key(&w, "x");
    cn_jsonw_object_begin(&w);
    cn_jsonw_kdouble(&w, "v", 0.1);
    cn_jsonw_kbool(&w, "ok", true);
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    CHECK(cn_jsonw_finish(&w));
    CHECK_STR(cn_buf_str(&w.buf), "{\n \"a\": [null, 2.0, 18446744073709551615],\n \"m\": {\n"
                                  "  \"x\": {\"v\": 0.1, \"ok\": true}\n }\n}\n");
    cn_jsonw_release(&w);
    cn_buf b = CN_BUF_INIT;
    static const char *const keys[] = {"lr", "name", "n"};
    static const char *const values[] = {"0.5", "adam", "1e3"};
    cn_json_write_map(&b, keys, values, 3);
    CHECK_STR(cn_buf_str(&b), "{\"lr\": 0.5, \"name\": \"adam\", \"n\": 1e3}");
    CHECK(!cn_json_is_number("nan") && !cn_json_is_number("01") && cn_json_is_number("-0.5e-3"));
    cn_buf_release(&b);
}

/* Output through a FILE (flushed in pieces) equals the in-memory document. */
TEST(streams_to_a_file)
{
    cn_jsonw mem, file;
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f)
        return;
    cn_jsonw_init(&mem, NULL, 1);
    cn_jsonw_init(&file, f, 1);
    cn_jsonw *both[2] = {&mem, &file};
    for (int k = 0; k < 2; k++) {
        cn_jsonw *w = both[k];
        cn_jsonw_array_begin(w);
        for (int i = 0; i < 5000; i++) {
            cn_jsonw_object_begin(w);
            cn_jsonw_kint(w, "step", i);
            cn_jsonw_kdouble(w, "value", i * 0.25);
            cn_jsonw_object_end(w);
        }
        cn_jsonw_array_end(w);
        CHECK(cn_jsonw_finish(w));
    }
    CHECK(file.buf.len == 0);
    long size = ftell(f);
    CHECK(size == (long)mem.buf.len);
    char *got = malloc((size_t)size + 1);
    rewind(f);
    CHECK(fread(got, 1, (size_t)size, f) == (size_t)size);
    got[size] = '\0';
    CHECK(strcmp(got, cn_buf_str(&mem.buf)) == 0);
    free(got);
    fclose(f);
    cn_jsonw_release(&mem);
    cn_jsonw_release(&file);
}

UNIT_MAIN(UNIT_CASE(writes_compact_nested_document), UNIT_CASE(indents_nested_document),
          UNIT_CASE(escapes_quotes_backslashes_and_control_characters), UNIT_CASE(keeps_valid_utf8),
          UNIT_CASE(replaces_invalid_utf8), UNIT_CASE(formats_doubles_shortest_and_as_floats),
          UNIT_CASE(doubles_round_trip), UNIT_CASE(writes_non_finite_as_mlflow_strings),
          UNIT_CASE(writes_absent_numbers_as_null_and_flat_containers),
          UNIT_CASE(streams_to_a_file))
