// Words of the page in English and Bahasa Indonesia, and number formats per language.

export const LOCALES = { en: "en-GB", id: "id-ID" };

export const WORDS = {
  en: {
    tagline: "Draw a road, read its bill of materials.",
    language: "Language",
    map: "Map",
    mapHelp:
      "Draw a polygon, or a line and give its width, with the tools on the left of the map. " +
      "Drag vertices to edit. Click a sample road to estimate it.",
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
    tagline: "Gambar jalan, baca daftar kebutuhan materialnya.",
    language: "Bahasa",
    map: "Peta",
    mapHelp:
      "Gambar poligon, atau garis beserta lebarnya, dengan alat di kiri peta. " +
      "Geser titik sudut untuk mengubah. Klik jalan contoh untuk menghitungnya.",
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
