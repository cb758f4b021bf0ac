import { assertEquals } from "jsr:@std/assert";
