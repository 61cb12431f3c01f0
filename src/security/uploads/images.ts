/**
 * Image sanitising with sharp (libvips). Nothing an uploader sent is served as sent: every image
 * is decoded and encoded again, which
 *
 * - drops every metadata block (EXIF with its GPS position, XMP, IPTC, comments, ICC profiles
 *   are converted to sRGB): sharp writes no metadata unless asked to keep it, and we never ask;
 * - applies the EXIF orientation first, so dropping EXIF does not turn photos sideways;
 * - breaks polyglots (a JPEG that is also HTML, a GIF with a JAR appended): only pixels survive;
 * - bounds the work: the pixel count (width x height x frames) is checked from the header before
 *   anything is decoded, and libvips enforces the same limit while decoding (decompression bombs
 *   are refused in milliseconds, without allocating the bitmap); frames are capped too.
 */
import type { Metadata, OutputInfo, Sharp } from 'sharp';
import { lazyModule } from '../../platform/lazy.js';
import { uploadErrors } from './errors.js';

/**
 * sharp (libvips, about 20 MB of memory) loads with the first image an upload brings, not at
 * start: a server that serves a portfolio never needs it.
 */
const loadSharp = lazyModule(async (): Promise<(typeof import('sharp'))['default']> => {
  const sharp = (await import('sharp')).default;
  // No libvips operation cache: uploads are one-off, and the cache would hold decoded pixels.
  sharp.cache(false);
  return sharp;
});

export interface ImageLimits {
  maxPixels: number;
  maxFrames: number;
}

export interface ImageProbe {
  format: string;
  width: number;
  height: number;
  frames: number;
}

export interface ImageVariant {
  name: 'display' | 'thumbnail';
  file: string;
  contentType: string;
  width: number;
  height: number;
  size: number;
}

/** Largest display variant and the thumbnail box. */
export const DISPLAY_BOX = { width: 1920, height: 1080 };
export const THUMBNAIL_BOX = { width: 320, height: 320 };

const FORMAT_OF_MIME: Record<string, string> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'heif',
};

/** Reads the header only: dimensions and frames, checked against the limits. */
export async function probeImage(file: string, mime: string, limits: ImageLimits): Promise<ImageProbe> {
  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    // Header only: nothing is decoded here, so the pixel limit is applied by us below (with a
    // clear error) rather than by libvips (which would only say "too large").
    meta = await sharp(file, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch {
    throw uploadErrors.imageUnreadable();
  }
  const expected = FORMAT_OF_MIME[mime];
  if (!expected || meta.format !== expected)
    throw uploadErrors.mismatch(`The image content is ${meta.format ?? 'unknown'}, not ${mime}`);
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  const frames = meta.pages ?? 1;
  if (width < 1 || height < 1) throw uploadErrors.imageUnreadable('The image has no pixels');
  if (frames > limits.maxFrames) throw uploadErrors.tooManyFrames(frames, limits.maxFrames);
  const pixels = width * height * frames;
  if (pixels > limits.maxPixels) throw uploadErrors.tooManyPixels(pixels, limits.maxPixels);
  return { format: meta.format, width, height, frames };
}

/**
 * Decodes and re-encodes into the display variant (at most 1920x1080) and a thumbnail, in the
 * upload's own format. Animated GIF/WebP keep their frames in the display variant.
 */
export async function sanitiseImage(
  file: string,
  mime: string,
  probe: ImageProbe,
  limits: ImageLimits,
  out: { display: string; thumbnail: string },
): Promise<ImageVariant[]> {
  const sharp = await loadSharp();
  const animated = probe.frames > 1 && (mime === 'image/gif' || mime === 'image/webp');
  const make = async (
    name: 'display' | 'thumbnail',
    box: { width: number; height: number },
    target: string,
  ): Promise<ImageVariant> => {
    const input = sharp(file, {
      limitInputPixels: limits.maxPixels,
      failOn: 'warning',
      sequentialRead: true,
      ...(animated && name === 'display' ? { animated: true } : {}),
    });
    let image = input.autoOrient().resize({ ...box, fit: 'inside', withoutEnlargement: true });
    image = encode(image, mime).timeout({ seconds: 30 });
    let info: OutputInfo;
    try {
      info = await image.toFile(target);
    } catch {
      throw uploadErrors.imageUnreadable();
    }
    return {
      name,
      file: target,
      contentType: mime,
      width: info.width,
      height: info.pageHeight ?? info.height,
      size: info.size,
    };
  };
  return [await make('display', DISPLAY_BOX, out.display), await make('thumbnail', THUMBNAIL_BOX, out.thumbnail)];
}

function encode(image: Sharp, mime: string): Sharp {
  switch (mime) {
    case 'image/jpeg':
      return image.jpeg({ quality: 85, mozjpeg: true });
    case 'image/png':
      return image.png({ compressionLevel: 9 });
    case 'image/webp':
      return image.webp({ quality: 85 });
    case 'image/gif':
      return image.gif();
    case 'image/avif':
      return image.avif({ quality: 60, effort: 2 });
    default:
      throw uploadErrors.unsupported(`${mime} is not an accepted image type`);
  }
}
