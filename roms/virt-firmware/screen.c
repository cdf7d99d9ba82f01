/* Boot screen, display console, test pattern and animation. */
#include "screen.h"

#include "display.h"
#include "font.h"
#include "mmio.h"
#include "sysctl.h"

#define RGB565(r, g, b) \
  ((uint16_t)((((uint32_t)(r)&0xF8u) << 8) | (((uint32_t)(g)&0xFCu) << 3) | ((uint32_t)(b) >> 3)))

#define STRIDE565 (SCREEN_WIDTH * 2UL) /* bytes per row of an RGB565 framebuffer */
#define CELL_WIDTH 8U
#define CELL_HEIGHT 16U
#define CELL_BYTES (CELL_WIDTH * 2U)

#define CONSOLE_FG RGB565(0xD0, 0xD8, 0xD0)
#define CONSOLE_BG RGB565(0x00, 0x00, 0x00)
#define LOGO_BG RGB565(0x10, 0x18, 0x38)

enum showing { SHOWING_NOTHING, SHOWING_CONSOLE, SHOWING_GRAPHICS };

#define PENDING_MAX 512U

static enum showing showing;
static bool console_on; /* the display is in use */
static bool drawn;      /* the boot screen is drawn: print straight to it */
static uint32_t console_fb, graphics_fb;
static char pending[PENDING_MAX];
static unsigned pending_length;
static unsigned cursor_column, cursor_row;
static bool cursor_visible;
/* Columns of each console row that may hold ink (glyphs or the cursor):
 * scrolling copies and clears only those. */
static uint8_t row_length[SCREEN_ROWS];
/* The four 32-bit words (8 RGB565 pixels) of one cell row for each 5-bit
 * glyph row pattern, in the console colours. */
static uint32_t cell_row_words[1u << FONT_GLYPH_COLUMNS][CELL_WIDTH / 2];

static const uint16_t kRainbow[8] = {
    RGB565(0xE0, 0x30, 0x30), RGB565(0xF0, 0x90, 0x20), RGB565(0xF0, 0xE0, 0x30),
    RGB565(0x40, 0xC0, 0x40), RGB565(0x30, 0xC0, 0xC0), RGB565(0x30, 0x60, 0xE0),
    RGB565(0x90, 0x40, 0xD0), RGB565(0xE0, 0x50, 0xA0),
};

static uint16_t* pixel565(uint32_t base, unsigned x, unsigned y) {
  return (uint16_t*)(base + (uint32_t)y * STRIDE565 + (uint32_t)x * 2u);
}

static void fill_words(uint32_t* words, uint32_t count, uint32_t value) {
  while (count >= 8) {
    words[0] = value;
    words[1] = value;
    words[2] = value;
    words[3] = value;
    words[4] = value;
    words[5] = value;
    words[6] = value;
    words[7] = value;
    words += 8;
    count -= 8;
  }
  while (count--) *words++ = value;
}

static void copy_words(uint32_t* to, const uint32_t* from, uint32_t count) {
  while (count >= 4) {
    uint32_t a = from[0], b = from[1], c = from[2], d = from[3];
    to[0] = a;
    to[1] = b;
    to[2] = c;
    to[3] = d;
    to += 4;
    from += 4;
    count -= 4;
  }
  while (count--) *to++ = *from++;
}

/* Fills a rectangle of an RGB565 framebuffer. */
static void fill_rect(uint32_t base, unsigned x, unsigned y, unsigned width, unsigned height,
                      uint16_t colour) {
  for (unsigned row = 0; row < height; row++) {
    uint16_t* p = pixel565(base, x, y + row);
    for (unsigned i = 0; i < width; i++) p[i] = colour;
  }
}

/* Draws `text` with each glyph dot as a `dot_width` x `dot_height` block
 * (`gap` pixels of it left blank on the right and bottom), glyphs
 * `advance` pixels apart; the background is left as it is. */
static void draw_text(uint32_t base, unsigned x, unsigned y, const char* text, unsigned dot_width,
                      unsigned dot_height, unsigned gap, unsigned advance, uint16_t colour) {
  for (; *text; text++, x += advance) {
    const uint8_t* glyph = font_glyph(*text);
    for (unsigned row = 0; row < FONT_GLYPH_ROWS; row++) {
      for (unsigned column = 0; column < FONT_GLYPH_COLUMNS; column++) {
        if (glyph[row] & (0x10u >> column))
          fill_rect(base, x + column * dot_width, y + row * dot_height, dot_width - gap,
                    dot_height - gap, colour);
      }
    }
  }
}

static void draw_logo(const char* version) {
  uint32_t fb = console_fb;
  static const char kLogo[] = "CR16";
  static const uint16_t kLogoColours[4] = {RGB565(0xF0, 0x50, 0x40), RGB565(0xF0, 0xC0, 0x30),
                                           RGB565(0x50, 0xD0, 0x60), RGB565(0x40, 0xA0, 0xF0)};
  fill_rect(fb, 0, 0, SCREEN_WIDTH, SCREEN_LOGO_HEIGHT, LOGO_BG);
  for (unsigned i = 0; i < 8; i++) {
    fill_rect(fb, i * 80, 0, 80, 6, kRainbow[i]);
    fill_rect(fb, i * 80, 102, 80, 4, kRainbow[7 - i]);
  }
  for (unsigned i = 0; i < 4; i++) {
    char letter[2] = {kLogo[i], '\0'};
    draw_text(fb, 24 + i * 56, 20, letter, 9, 9, 1, 0, kLogoColours[i]);
  }
  char title[32] = "virt-firmware ";
  unsigned length = 14;
  for (const char* v = version; *v && length < sizeof title - 1; v++) title[length++] = *v;
  title[length] = '\0';
  draw_text(fb, 280, 24, title, 2, 4, 0, 14, RGB565(0xF8, 0xF8, 0xF8));
  draw_text(fb, 280, 64, "cr16-system virt board", 1, 2, 0, 8, RGB565(0xA0, 0xC0, 0xF0));
  draw_text(fb, 280, 82, "CompactRISC CR16C/CR16C+", 1, 2, 0, 8, RGB565(0xA0, 0xC0, 0xF0));
}

/* ---- Console ------------------------------------------------------------ */

static uint32_t cell_address(unsigned column, unsigned row) {
  return console_fb + (SCREEN_LOGO_HEIGHT + (uint32_t)row * CELL_HEIGHT) * STRIDE565 +
         (uint32_t)column * CELL_BYTES;
}

static void build_cell_rows(void) {
  for (unsigned bits = 0; bits < (1u << FONT_GLYPH_COLUMNS); bits++) {
    uint16_t pixels[CELL_WIDTH];
    for (unsigned x = 0; x < CELL_WIDTH; x++) {
      bool ink = x >= 1 && x <= FONT_GLYPH_COLUMNS && (bits & (0x10u >> (x - 1)));
      pixels[x] = ink ? CONSOLE_FG : CONSOLE_BG;
    }
    for (unsigned w = 0; w < CELL_WIDTH / 2; w++)
      cell_row_words[bits][w] = pixels[2 * w] | ((uint32_t)pixels[2 * w + 1] << 16);
  }
}

static void note_ink(unsigned column, unsigned row) {
  if (row_length[row] < column + 1) row_length[row] = (uint8_t)(column + 1);
}

static void draw_cell(unsigned column, unsigned row, char c) {
  const uint8_t* glyph = font_glyph(c);
  uint32_t line = cell_address(column, row);
  for (unsigned r = 0; r < FONT_GLYPH_ROWS; r++, line += 2 * STRIDE565) {
    const uint32_t* words = cell_row_words[glyph[r]];
    uint32_t* upper = (uint32_t*)line;
    uint32_t* lower = (uint32_t*)(line + STRIDE565);
    uint32_t a = words[0], b = words[1], c2 = words[2], d = words[3];
    upper[0] = a;
    upper[1] = b;
    upper[2] = c2;
    upper[3] = d;
    lower[0] = a;
    lower[1] = b;
    lower[2] = c2;
    lower[3] = d;
  }
  note_ink(column, row);
}

/* The cursor is the cell's bottom two pixel rows inverted (XOR), so drawing
 * it twice restores the cell. */
static void toggle_cursor(void) {
  if (cursor_column >= SCREEN_COLUMNS) return;
  uint32_t flip = (uint32_t)(CONSOLE_FG ^ CONSOLE_BG) * 0x10001UL;
  uint32_t line = cell_address(cursor_column, cursor_row) + (CELL_HEIGHT - 2) * STRIDE565;
  for (unsigned r = 0; r < 2; r++, line += STRIDE565) {
    uint32_t* words = (uint32_t*)line;
    for (unsigned w = 0; w < CELL_WIDTH / 2; w++) words[w] ^= flip;
  }
  note_ink(cursor_column, cursor_row);
  cursor_visible = !cursor_visible;
}

static void hide_cursor(void) {
  if (cursor_visible) toggle_cursor();
}

static void show_cursor(void) {
  if (!cursor_visible) toggle_cursor();
}

/* Clears the first `columns` cells of console row `row`. */
static void clear_row(unsigned row, unsigned columns) {
  uint32_t background = (uint32_t)CONSOLE_BG * 0x10001UL;
  uint32_t line = cell_address(0, row);
  for (unsigned y = 0; y < CELL_HEIGHT; y++, line += STRIDE565)
    fill_words((uint32_t*)line, columns * (CELL_BYTES / 4), background);
  row_length[row] = 0;
}

/* Moves every row up by one and clears the last. Only the columns that may
 * hold ink in either row are copied. */
static void scroll(void) {
  for (unsigned row = 0; row + 1 < SCREEN_ROWS; row++) {
    unsigned columns =
        row_length[row] > row_length[row + 1] ? row_length[row] : row_length[row + 1];
    if (columns) {
      uint32_t to = cell_address(0, row), from = cell_address(0, row + 1);
      for (unsigned y = 0; y < CELL_HEIGHT; y++, to += STRIDE565, from += STRIDE565)
        copy_words((uint32_t*)to, (const uint32_t*)from, columns * (CELL_BYTES / 4));
    }
    row_length[row] = row_length[row + 1];
  }
  clear_row(SCREEN_ROWS - 1, row_length[SCREEN_ROWS - 1]);
}

static void new_line(void) {
  cursor_column = 0;
  if (cursor_row + 1 < SCREEN_ROWS) {
    cursor_row++;
  } else {
    scroll();
  }
}

void screen_putc(char c) {
  if (!console_on) return;
  if (!drawn) {
    if (pending_length < PENDING_MAX) pending[pending_length++] = c;
    return;
  }
  hide_cursor();
  if (c == '\n') {
    new_line();
  } else if (c == '\r') {
    cursor_column = 0;
  } else if (c == '\b') {
    if (cursor_column > 0) cursor_column--;
  } else if ((uint8_t)c >= FONT_FIRST_CHAR && (uint8_t)c <= FONT_LAST_CHAR) {
    if (cursor_column >= SCREEN_COLUMNS) new_line();
    draw_cell(cursor_column, cursor_row, c);
    cursor_column++;
  }
  show_cursor();
}

void screen_clear_console(void) {
  if (!drawn) return;
  for (unsigned row = 0; row < SCREEN_ROWS; row++) clear_row(row, SCREEN_COLUMNS);
  cursor_column = cursor_row = 0;
  cursor_visible = false;
  show_cursor();
}

void screen_show_console(void) {
  if (!drawn || showing == SHOWING_CONSOLE) return;
  display_show(console_fb, VIRT_DISP_MODE_RES_640X480, VIRT_DISP_FORMAT_RGB565);
  showing = SHOWING_CONSOLE;
}

void screen_init(void) {
  uint32_t ram = sysctl_ram_size();
  console_on = ram >= SCREEN_MIN_RAM;
  drawn = false;
  pending_length = 0;
  showing = SHOWING_NOTHING;
  display_off();
  if (!console_on) return;
  graphics_fb = ram - SCREEN_GFX_FB_SIZE;
  console_fb = graphics_fb - SCREEN_CONSOLE_FB_SIZE;
  build_cell_rows();
}

void screen_draw_boot_screen(const char* version) {
  if (!console_on) return;
  draw_logo(version);
  drawn = true;
  cursor_visible = false;
  screen_clear_console();
  screen_show_console();
  for (unsigned i = 0; i < pending_length; i++) screen_putc(pending[i]);
  pending_length = 0;
}

/* ---- Test pattern and animation ----------------------------------------- */

bool screen_available(void) {
  return console_on;
}

void screen_show_test_pattern(void) {
  static const uint16_t kBars[8] = {RGB565(0xFF, 0xFF, 0xFF), RGB565(0xFF, 0xFF, 0x00),
                                    RGB565(0x00, 0xFF, 0xFF), RGB565(0x00, 0xFF, 0x00),
                                    RGB565(0xFF, 0x00, 0xFF), RGB565(0xFF, 0x00, 0x00),
                                    RGB565(0x00, 0x00, 0xFF), RGB565(0x00, 0x00, 0x00)};
  uint32_t fb = graphics_fb;
  /* Colour bars, rows 0-239. */
  for (unsigned i = 0; i < 8; i++) fill_rect(fb, i * 80, 0, 80, 240, kBars[i]);
  /* Red, green, blue and grey ramps (left dark, right bright), rows 240-359. */
  for (unsigned x = 0; x < SCREEN_WIDTH; x++) {
    unsigned level = (unsigned)((uint32_t)x * 256UL / SCREEN_WIDTH);
    fill_rect(fb, x, 240, 1, 30, RGB565(level, 0, 0));
    fill_rect(fb, x, 270, 1, 30, RGB565(0, level, 0));
    fill_rect(fb, x, 300, 1, 30, RGB565(0, 0, level));
    fill_rect(fb, x, 330, 1, 30, RGB565(level, level, level));
  }
  /* A grid of 32-pixel squares, rows 360-479. */
  fill_rect(fb, 0, 360, SCREEN_WIDTH, 120, RGB565(0x20, 0x20, 0x20));
  for (unsigned x = 0; x < SCREEN_WIDTH; x += 32) fill_rect(fb, x, 360, 1, 120, 0xFFFF);
  for (unsigned y = 360; y < SCREEN_HEIGHT; y += 32) fill_rect(fb, 0, y, SCREEN_WIDTH, 1, 0xFFFF);
  /* A white frame around the whole picture. */
  fill_rect(fb, 0, 0, SCREEN_WIDTH, 1, 0xFFFF);
  fill_rect(fb, 0, SCREEN_HEIGHT - 1, SCREEN_WIDTH, 1, 0xFFFF);
  fill_rect(fb, 0, 0, 1, SCREEN_HEIGHT, 0xFFFF);
  fill_rect(fb, SCREEN_WIDTH - 1, 0, 1, SCREEN_HEIGHT, 0xFFFF);
  display_show(fb, VIRT_DISP_MODE_RES_640X480, VIRT_DISP_FORMAT_RGB565);
  showing = SHOWING_GRAPHICS;
}

/* Frame `t` of the animation: pixel (x, y) is the row's start colour plus x
 * (blue ramps along the row and carries into green). The start colour's red
 * and green move by 3 and 2 per frame, so every pixel changes each frame. */
static void draw_frame(uint32_t t) {
  uint32_t* p = (uint32_t*)graphics_fb;
  uint32_t red = ((t * 3u) & 0xFFu) << 16;
  for (uint32_t y = 0; y < SCREEN_HEIGHT; y++) {
    uint32_t v = red | (((y + 2u * t) & 0xFFu) << 8);
    for (unsigned i = 0; i < SCREEN_WIDTH / 8; i++) {
      p[0] = v;
      p[1] = v + 1;
      p[2] = v + 2;
      p[3] = v + 3;
      p[4] = v + 4;
      p[5] = v + 5;
      p[6] = v + 6;
      p[7] = v + 7;
      p += 8;
      v += 8;
    }
  }
}

uint32_t screen_animate(bool (*stop)(void)) {
  uint32_t frames = 0;
  draw_frame(0);
  display_show(graphics_fb, VIRT_DISP_MODE_RES_640X480, VIRT_DISP_FORMAT_XRGB8888);
  showing = SHOWING_GRAPHICS;
  frames = 1;
  for (;;) {
    display_wait_vblank();
    if (stop()) break;
    draw_frame(frames);
    frames++;
  }
  screen_show_console();
  return frames;
}
