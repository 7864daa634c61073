// Words of the page in English and Bahasa Indonesia, and number formats per language.

export const LOCALES = { en: "en-GB", id: "id-ID" };

export const WORDS = {
  en: {
    title: "Takeoff – road bill of materials",
    widthDefaultUsed: "template default {width} used",
    widthUnreadable: "“{text}” is not a number. Type a width in metres, e.g. {example}.",
    widthRange: "The width must be between {min} and {max} m.",
    fixInput: "Correct the highlighted field to see the bill of materials.",
    catalogNote: "Rates: {label}",
    segments: "Segments",
    segment: "Segment {n}",
    select: "Select",
    remove: "Remove",
    selected: "selected",
    segmentTotal: "Segment total",
    package: "Whole estimate",
    noSegments: "No segment yet: draw one on the map.",
    finish: "Finish",
    cancel: "Cancel",
    removeLastVertex: "Remove last corner",
    drawPolygon: "Draw a road outline (polygon)",
    drawLine: "Draw a road centreline (line)",
    drawRectangle: "Draw a rectangle",
    editShapes: "Move corners",
    dragShapes: "Move shapes",
    removeShapes: "Remove shapes",
    hintFirst: "Click to place the first corner",
    hintContinue: "Click to place the next corner",
    hintFinishPolygon: "Click to add a corner; double-click, Enter or Finish to close the outline; Esc cancels",
    hintFinishLine: "Click to add a point; double-click, Enter or Finish to end the line; Esc cancels",
    hintRectangle: "Click to place the opposite corner",
    live: "Drawing",
    tilesOffline: "Map tiles can't load (offline?). Drawing and estimates still work.",
    search: "Find a road",
    searchPlaceholder: "Road name, e.g. Jalan Daan Mogot",
    searchButton: "Search",
    searchNone: "No road named “{q}” in the published layers.",
    searchFound: "{count} roads found.",
    roadFrom: "{name}: {template}, {width} (from the OSM road class)",
    saving: "Saving…",
    saveExport: "Save and export",
    saveCopy: "Save a copy",
    saveVersion: "Save as new version",
    rename: "Rename",
    renameTo: "New name for #{id}",
    renameSave: "Save name",
    renamed: "Saved estimate {id} renamed.",
    savedVersion: "Saved as estimate {id}, version {version} of #{previous}.",
    openedVersion: "Estimate #{id} (version {version}) is open: “Save as new version” keeps it and saves the changes as version {next}.",
    hasNewer: "Estimate #{id} already has a newer version, #{later}: open that one to save another version.",
    versionTag: "v{n}",
    needsKeyRename: "Renaming a saved estimate needs an API key: enter it under “API key” below the list.",
    needsKeyVersion: "Saving a new version needs an API key: enter it under “API key” below the list.",
    keyStart: "Drawing {shape} with the keyboard: arrow keys move the crosshair {step} (with Shift {big}), Space adds a corner, Backspace removes the last one, Enter at the same place finishes, Escape cancels.",
    shapeOutline: "a road outline",
    shapeLine: "a road centreline",
    keyCorner: "Corner {n} placed. {measure}",
    keyMoved: "{distance} from corner {n}.",
    keyRemoved: "Last corner removed; {n} left.",
    keyTooFew: "Not enough corners to finish: an outline needs 3, a line 2.",
    keyFinished: "Segment {n} drawn.",
    keyCancelled: "Drawing cancelled.",
    materials: "Materials to order",
    material: "Material",
    orderQuantity: "Order quantity",
    loads: "Truckloads",
    source: "Nearest source",
    haul: "Haul",
    haulNetwork: "by road",
    haulStraight: "straight line × detour",
    noSource: "no source",
    sourcesLayer: "Material sources",
    materialsNote: "Haul from the nearest source that supplies each material to the middle of the estimate; the map draws the way by road, or a dashed straight line where no road joins them.",
    apiKey: "API key",
    apiKeyHelp: "Needed to delete saved estimates, retitle them or save new versions; kept for this browser session only.",
    delete: "Delete",
    confirmDelete: "Delete saved estimate #{id}? This cannot be undone.",
    deleted: "Saved estimate {id} deleted.",
    needsKey: "Deleting a saved estimate needs an API key: enter it under “API key” below the list.",
    zoomIn: "Zoom in",
    zoomOut: "Zoom out",
    corner: "Corner {n} of segment {segment}: drag to move",
    addCorner: "Drag to add a corner to segment {segment}",
    serverDown: "The server can't be reached. Check the connection and try again; nothing was priced.",
    problems: {
      selfIntersection: "The outline crosses itself here. Move a corner so the edges don't cross.",
      missingRates: "The rate catalog has no price for: {codes}. Choose another catalog or add the rates.",
      tooFewPoints: "The shape has too few corners to be a road.",
      widthNumber: "The width must be a number of metres.",
    },
    warningsText: {
      defaultWidth: "No width given: priced with the template default of {width} m.",
      width: "The mean width {width} is outside the {range} plausible for this template: check the width or the outline.",
      length: "Length {length} is longer than one road ({max}): check the scale of the drawing.",
      area: "Area {area} is larger than one road ({max}): check the scale of the drawing.",
      blob: "The centerline ({length}) is shorter than twice the mean width ({width}): this outline is not a road strip, so its length is a guess.",
      overlap: "Segments {a} and {b} overlap by {area}: that part is paved twice.",
    },
    tagline: "Draw a road, read its bill of materials.",
    language: "Language",
    map: "Map",
    mapHelp:
      "Draw a road outline or a centreline with the tools on the left of the map; " +
      "finish with a double-click, Enter or Finish, cancel with Esc. Each shape is a segment " +
      "with its own template and width. Click a sample road, or find one by name, to estimate it. " +
      "With the keyboard: Tab to a drawing tool and press Enter, move the crosshair with the " +
      "arrow keys, add corners with Space and finish with Enter.",
    template: "Cross-section template",
    catalog: "Rate catalog",
    width: "Width of a line",
    widthDefault: "template default: {width}",
    name: "Name",
    measures: "Measurements",
    length: "Length",
    area: "Area",
    meanWidth: "Mean width",
    method: "Centerline method",
    bom: "Bill of materials",
    item: "Item",
    quantity: "Quantity",
    unit: "Unit",
    rate: "Rate",
    amount: "Amount",
    subtotal: "Subtotal",
    overheadProfit: "Overhead & profit",
    tax: "Tax (VAT)",
    total: "Total",
    warnings: "Warnings",
    save: "Save estimate",
    downloadXlsx: "Download Excel (XLSX)",
    downloadGeojson: "Download GeoJSON",
    saved: "Saved estimates",
    noSaved: "No saved estimates yet.",
    open: "Open",
    estimating: "Estimating…",
    estimated: "Estimate updated.",
    savedAs: "Saved as estimate {id}.",
    opened: "Showing saved estimate {id}.",
    drawFirst: "Draw a road on the map to see its bill of materials.",
    errorTitle: "The estimate could not be made",
    networkError: "The server could not be reached: {detail}",
    feature: "feature",
    field: "field",
    items: "items",
    sampleRoads: "Sample roads",
    savedLayer: "Saved estimates",
    methods: {
      line: "drawn line",
      centerline: "centerline sent",
      "area/width": "area ÷ width",
      strip: "mean of the two sides",
      "medial-axis": "medial axis (skeleton)",
    },
  },
  id: {
    title: "Takeoff – rencana anggaran biaya jalan",
    widthDefaultUsed: "lebar bawaan templat {width} dipakai",
    widthUnreadable: "“{text}” bukan angka. Ketik lebar dalam meter, misalnya {example}.",
    widthRange: "Lebar harus antara {min} dan {max} m.",
    fixInput: "Perbaiki isian yang ditandai untuk melihat rencana anggaran biaya.",
    catalogNote: "Harga satuan: {label}",
    segments: "Ruas",
    segment: "Ruas {n}",
    select: "Pilih",
    remove: "Hapus",
    selected: "dipilih",
    segmentTotal: "Total ruas",
    package: "Seluruh estimasi",
    noSegments: "Belum ada ruas: gambar satu di peta.",
    finish: "Selesai",
    cancel: "Batal",
    removeLastVertex: "Hapus titik sudut terakhir",
    drawPolygon: "Gambar batas jalan (poligon)",
    drawLine: "Gambar as jalan (garis)",
    drawRectangle: "Gambar persegi panjang",
    editShapes: "Geser titik sudut",
    dragShapes: "Pindahkan bentuk",
    removeShapes: "Hapus bentuk",
    hintFirst: "Klik untuk titik sudut pertama",
    hintContinue: "Klik untuk titik sudut berikutnya",
    hintFinishPolygon: "Klik untuk menambah titik; klik ganda, Enter atau Selesai untuk menutup batas; Esc membatalkan",
    hintFinishLine: "Klik untuk menambah titik; klik ganda, Enter atau Selesai untuk mengakhiri garis; Esc membatalkan",
    hintRectangle: "Klik untuk sudut seberangnya",
    live: "Menggambar",
    tilesOffline: "Peta dasar tidak dapat dimuat (luring?). Menggambar dan estimasi tetap berjalan.",
    search: "Cari jalan",
    searchPlaceholder: "Nama jalan, mis. Jalan Daan Mogot",
    searchButton: "Cari",
    searchNone: "Tidak ada jalan bernama “{q}” di lapisan yang diterbitkan.",
    searchFound: "{count} jalan ditemukan.",
    roadFrom: "{name}: {template}, {width} (dari kelas jalan OSM)",
    saving: "Menyimpan…",
    saveExport: "Simpan dan ekspor",
    saveCopy: "Simpan salinan",
    saveVersion: "Simpan sebagai versi baru",
    rename: "Ganti nama",
    renameTo: "Nama baru untuk #{id}",
    renameSave: "Simpan nama",
    renamed: "Estimasi tersimpan {id} diganti namanya.",
    savedVersion: "Disimpan sebagai estimasi {id}, versi {version} dari #{previous}.",
    openedVersion: "Estimasi #{id} (versi {version}) terbuka: “Simpan sebagai versi baru” menyimpannya tetap dan menyimpan perubahan sebagai versi {next}.",
    hasNewer: "Estimasi #{id} sudah memiliki versi yang lebih baru, #{later}: buka versi itu untuk menyimpan versi berikutnya.",
    versionTag: "v{n}",
    needsKeyRename: "Mengganti nama estimasi tersimpan memerlukan kunci API: isi di “Kunci API” di bawah daftar.",
    needsKeyVersion: "Menyimpan versi baru memerlukan kunci API: isi di “Kunci API” di bawah daftar.",
    keyStart: "Menggambar {shape} dengan papan ketik: tombol panah menggeser tanda silang {step} (dengan Shift {big}), Spasi menambah titik sudut, Backspace menghapus yang terakhir, Enter di tempat yang sama menyelesaikan, Escape membatalkan.",
    shapeOutline: "batas jalan",
    shapeLine: "as jalan",
    keyCorner: "Titik sudut {n} ditempatkan. {measure}",
    keyMoved: "{distance} dari titik sudut {n}.",
    keyRemoved: "Titik sudut terakhir dihapus; tersisa {n}.",
    keyTooFew: "Titik sudut belum cukup untuk selesai: batas jalan perlu 3, garis 2.",
    keyFinished: "Ruas {n} selesai digambar.",
    keyCancelled: "Menggambar dibatalkan.",
    materials: "Kebutuhan material",
    material: "Material",
    orderQuantity: "Volume pesanan",
    loads: "Jumlah rit",
    source: "Sumber terdekat",
    haul: "Jarak angkut",
    haulNetwork: "lewat jalan",
    haulStraight: "garis lurus × faktor belok",
    noSource: "tidak ada sumber",
    sourcesLayer: "Sumber material",
    materialsNote: "Jarak angkut dari sumber terdekat yang memasok setiap material ke tengah lokasi estimasi; peta menggambar rute lewat jalan, atau garis lurus putus-putus bila tidak ada jalan yang menghubungkan.",
    apiKey: "Kunci API",
    apiKeyHelp: "Diperlukan untuk menghapus atau mengganti nama estimasi tersimpan dan menyimpan versi baru; hanya disimpan selama sesi peramban ini.",
    delete: "Hapus",
    confirmDelete: "Hapus estimasi tersimpan #{id}? Tindakan ini tidak dapat dibatalkan.",
    deleted: "Estimasi tersimpan {id} dihapus.",
    needsKey: "Menghapus estimasi tersimpan memerlukan kunci API: isi di “Kunci API” di bawah daftar.",
    zoomIn: "Perbesar",
    zoomOut: "Perkecil",
    corner: "Titik sudut {n} ruas {segment}: geser untuk memindahkan",
    addCorner: "Geser untuk menambah titik sudut pada ruas {segment}",
    serverDown: "Server tidak dapat dihubungi. Periksa koneksi lalu coba lagi; belum ada yang dihitung.",
    problems: {
      selfIntersection: "Batas jalan berpotongan sendiri di sini. Geser titik sudut agar sisinya tidak bersilangan.",
      missingRates: "Katalog harga tidak memiliki harga untuk: {codes}. Pilih katalog lain atau tambahkan harganya.",
      tooFewPoints: "Bentuk ini terlalu sedikit titik sudutnya untuk sebuah jalan.",
      widthNumber: "Lebar harus berupa angka dalam meter.",
    },
    warningsText: {
      defaultWidth: "Lebar tidak diisi: dihitung dengan lebar bawaan templat {width} m.",
      width: "Lebar rata-rata {width} di luar rentang wajar {range} untuk templat ini: periksa lebar atau batasnya.",
      length: "Panjang {length} melebihi satu ruas jalan ({max}): periksa skala gambar.",
      area: "Luas {area} melebihi satu ruas jalan ({max}): periksa skala gambar.",
      blob: "As jalan ({length}) lebih pendek dari dua kali lebar rata-rata ({width}): batas ini bukan jalur jalan, jadi panjangnya hanya perkiraan.",
      overlap: "Ruas {a} dan {b} bertumpang tindih {area}: bagian itu diperkeras dua kali.",
    },
    tagline: "Gambar jalan, baca daftar kebutuhan materialnya.",
    language: "Bahasa",
    map: "Peta",
    mapHelp:
      "Gambar batas jalan atau as jalan dengan alat di kiri peta; akhiri dengan klik ganda, " +
      "Enter atau Selesai, batalkan dengan Esc. Setiap bentuk adalah ruas dengan templat dan " +
      "lebarnya sendiri. Klik jalan contoh, atau cari namanya, untuk menghitungnya. " +
      "Dengan papan ketik: Tab ke alat gambar lalu tekan Enter, geser tanda silang dengan " +
      "tombol panah, tambah titik sudut dengan Spasi dan selesaikan dengan Enter.",
    template: "Templat potongan melintang",
    catalog: "Katalog harga satuan",
    width: "Lebar garis",
    widthDefault: "bawaan templat: {width}",
    name: "Nama",
    measures: "Ukuran",
    length: "Panjang",
    area: "Luas",
    meanWidth: "Lebar rata-rata",
    method: "Metode as jalan",
    bom: "Rencana anggaran biaya",
    item: "Uraian pekerjaan",
    quantity: "Volume",
    unit: "Satuan",
    rate: "Harga satuan",
    amount: "Jumlah harga",
    subtotal: "Jumlah",
    overheadProfit: "Biaya umum & keuntungan",
    tax: "PPN",
    total: "Total",
    warnings: "Peringatan",
    save: "Simpan estimasi",
    downloadXlsx: "Unduh Excel (XLSX)",
    downloadGeojson: "Unduh GeoJSON",
    saved: "Estimasi tersimpan",
    noSaved: "Belum ada estimasi tersimpan.",
    open: "Buka",
    estimating: "Menghitung…",
    estimated: "Estimasi diperbarui.",
    savedAs: "Disimpan sebagai estimasi {id}.",
    opened: "Menampilkan estimasi tersimpan {id}.",
    drawFirst: "Gambar jalan di peta untuk melihat daftar kebutuhan materialnya.",
    errorTitle: "Estimasi tidak dapat dibuat",
    networkError: "Server tidak dapat dihubungi: {detail}",
    feature: "fitur",
    field: "isian",
    items: "item",
    sampleRoads: "Jalan contoh",
    savedLayer: "Estimasi tersimpan",
    methods: {
      line: "garis yang digambar",
      centerline: "as jalan yang dikirim",
      "area/width": "luas ÷ lebar",
      strip: "rata-rata kedua sisi",
      "medial-axis": "sumbu medial (kerangka)",
    },
  },
};

/** The word `key` in `lang`, with `{name}` placeholders filled from `values`. */
export function t(lang, key, values = {}) {
  const text = WORDS[lang][key] ?? WORDS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** A word of a group (`problems`, `warningsText`) in `lang`, placeholders filled. */
export function tg(lang, group, key, values = {}) {
  const text = WORDS[lang][group]?.[key] ?? WORDS.en[group][key];
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

const SEPARATORS = { en: { decimal: ".", group: "," }, id: { decimal: ",", group: "." } };

/**
 * A number typed in `lang`, or NaN when it can't be read without guessing.
 *
 * Both `3,5` and `3.5` are 3.5 in either language; a separator followed by exactly three
 * digits is the language's thousands separator (`1.500` in Bahasa Indonesia is 1500), and
 * groups must be whole (`1.50.0` is unreadable). Never `parseFloat`, which reads `3,5` as 3.
 */
export function parseNumber(lang, text) {
  const typed = String(text).trim().replace(/[\s\u00a0\u202f]/g, "");
  if (!/^[+-]?[\d.,]+$/.test(typed) || !/\d/.test(typed)) return Number.NaN;
  const { group } = SEPARATORS[lang] ?? SEPARATORS.en;
  const separators = [...typed.matchAll(/[.,]/g)].map((match) => match.index);
  let integer = typed;
  let fraction = "";
  const last = separators.at(-1);
  if (last !== undefined) {
    const mark = typed[last];
    const tail = typed.slice(last + 1);
    const mixed = new Set(separators.map((index) => typed[index])).size > 1;
    const grouping = !mixed && (separators.length > 1 || (mark === group && tail.length === 3));
    if (!grouping) {
      if (typed.indexOf(mark) !== last) return Number.NaN; // 1,5,5 or 1.2.3,4
      integer = typed.slice(0, last);
      fraction = tail;
    }
  }
  const [sign, digits] = /^[+-]/.test(integer) ? [integer[0], integer.slice(1)] : ["", integer];
  const groups = digits.split(/[.,]/);
  if (groups.length > 1 && (!/^\d{1,3}$/.test(groups[0]) || groups.slice(1).some((g) => !/^\d{3}$/.test(g)))) {
    return Number.NaN;
  }
  if (!/^\d*$/.test(fraction) || (groups.join("") === "" && fraction === "")) return Number.NaN;
  return Number(`${sign}${groups.join("") || "0"}.${fraction || "0"}`);
}

const ENGLISH_NUMBER = (text) => Number(text.replaceAll(",", ""));

/** The API's warnings (English, per feature) in the page's language and the planner's words. */
export function explainWarning(lang, warning, segmentName) {
  const match = /^feature (\d+): (.*)$/.exec(warning);
  const [where, text] = match ? [segmentName(Number(match[1])), match[2]] : ["", warning];
  const n = (value, digits = 1, unit = "m") =>
    `${formatNumber(lang, ENGLISH_NUMBER(value), digits, true)} ${unit}`;
  const rules = [
    [/^no width given: priced with template \S+'s default width ([\d.]+) m$/, (m) =>
      tg(lang, "warningsText", "defaultWidth", { width: formatNumber(lang, Number(m[1]), 2, true) })],
    [/^mean width ([\d,.]+) m is outside the ([\d.]+)-([\d.]+) m plausible/, (m) =>
      tg(lang, "warningsText", "width", { width: n(m[1]), range: `${n(m[2])}–${n(m[3])}`.replace(" m–", "–") })],
    [/^length ([\d,.]+) km is longer than one road \(([\d.]+) km\)/, (m) =>
      tg(lang, "warningsText", "length", { length: n(m[1], 1, "km"), max: n(m[2], 0, "km") })],
    [/^area ([\d,]+) m2 is larger than one road \(([\d,]+) m2\)/, (m) =>
      tg(lang, "warningsText", "area", { area: n(m[1], 0, "m²"), max: n(m[2], 0, "m²") })],
    [/^the centerline \(([\d,.]+) m\) is shorter than twice the mean width \(([\d,.]+) m\)/, (m) =>
      tg(lang, "warningsText", "blob", { length: n(m[1]), width: n(m[2]) })],
  ];
  for (const [pattern, say] of rules) {
    const found = pattern.exec(text);
    if (found) return where ? `${where}: ${say(found)}` : say(found);
  }
  const overlap = /^features (\d+) and (\d+) overlap by ([\d.]+) m2/.exec(warning);
  if (overlap) {
    return tg(lang, "warningsText", "overlap", {
      a: segmentName(Number(overlap[1])),
      b: segmentName(Number(overlap[2])),
      area: n(overlap[3], 2, "m²"),
    });
  }
  return where ? `${where}: ${text}` : text;
}

/** An API problem in planner words where the page knows it, else its own detail. */
export function explainProblem(lang, problem) {
  const detail = `${problem.detail ?? ""} ${(problem.errors ?? []).map((e) => e.message).join(" ")}`;
  if (/self-intersection|crosses itself/i.test(detail)) return tg(lang, "problems", "selfIntersection");
  const missing = /has no rate for .*?: ([A-Z0-9][A-Z0-9._, -]*[A-Z0-9])/.exec(detail);
  if (missing) return tg(lang, "problems", "missingRates", { codes: missing[1] });
  if (/too few|at least (3|4|2) (points|coordinates|positions)/i.test(detail)) {
    return tg(lang, "problems", "tooFewPoints");
  }
  return (problem.detail || problem.title || "").replace(/^feature \d+:\s*/, "");
}

/** A money string (exact decimal) in the catalog's currency, e.g. "Rp 1.234.567". */
export function formatMoney(lang, amount, currency, exponent) {
  if (amount === null || amount === undefined || amount === "") return "–";
  const digits = Number.isInteger(exponent) ? exponent : undefined;
  const format = new Intl.NumberFormat(LOCALES[lang], {
    style: "currency",
    currency,
    currencyDisplay: "narrowSymbol",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl formats decimal strings exactly, without a trip through binary floating point.
  return format.format(String(amount));
}

/** A number grouped as the language writes it, with `digits` decimals (fewer if `trim`). */
export function formatNumber(lang, value, digits = 2, trim = false) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(LOCALES[lang], {
    minimumFractionDigits: trim ? 0 : digits,
    maximumFractionDigits: digits,
  }).format(value);
}

/** A percentage given as a decimal string ("11" -> "11 %", "12.5" -> "12,5 %"). */
export function formatPercent(lang, pct) {
  if (pct === null || pct === undefined) return "";
  return `${formatNumber(lang, Number(pct), 4, true)} %`;
}
