/** The storage backends read their settings through the shared options layer. */
export { definedOnly, type PropertyReader, propertyReader } from '../options/properties.ts';
